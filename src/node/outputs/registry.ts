import type {BuildOutput} from './types.js'

/** The outputs every build writes after the site and the datasets, in order (loaded only when a build writes). */
export async function buildOutputs(): Promise<BuildOutput[]> {
  const [{ankiOutput}, {litgptOutput}, {mongoOutput}] = await Promise.all([
    import('../anki/output.js'),
    import('../litgpt/output.js'),
    import('../mongo/output.js')
  ])
  return [ankiOutput, litgptOutput, mongoOutput]
}
