import {UserError} from '../../node/errors.js'

/** `tagpress export …`: placeholder until the exporter lands. */
export async function runExport(_args: string[]): Promise<number> {
  throw new UserError('`tagpress export` is not available yet')
}
