import {UserError} from '../../node/errors.js'

/** `tagpress tree …`: placeholder until the tree reader lands. */
export async function runTree(_args: string[]): Promise<number> {
  throw new UserError('`tagpress tree` is not available yet')
}
