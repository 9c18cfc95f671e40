import type {BuildOutput} from '../outputs/types.js'

/** `out/datasets/litgpt/`: placeholder until the corpus writer lands. */
export const litgptOutput: BuildOutput = {
  name: 'litgpt',
  write: async () => ({files: []})
}
