import {UserError} from '../../node/errors.js'

/** `tagpress anki …`: placeholder until the deck reader lands. */
export async function runAnki(_args: string[]): Promise<number> {
  throw new UserError('`tagpress anki` is not available yet')
}
