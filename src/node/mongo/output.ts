import type {BuildOutput} from '../outputs/types.js'

/** `out/mongo/nodes.jsonl`: placeholder until the tree writer lands. */
export const mongoOutput: BuildOutput = {
  name: 'mongo',
  write: async () => ({files: []})
}
