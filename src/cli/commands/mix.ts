import {UserError} from '../../node/errors.js'

/** `tagpress mix …`: placeholder until the mixer lands. */
export async function runMix(_args: string[]): Promise<number> {
  throw new UserError('`tagpress mix` is not available yet')
}
