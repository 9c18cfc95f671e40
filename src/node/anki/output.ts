import type {BuildOutput} from '../outputs/types.js'

/** `out/anki/`: placeholder until the deck writer lands. */
export const ankiOutput: BuildOutput = {
  name: 'anki',
  write: async () => ({files: []})
}
