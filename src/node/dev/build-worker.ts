import {parentPort, workerData} from 'node:worker_threads'
import {build, type BuildMemory, type BuildResult} from '../build/build.js'
import type {CompiledMeta} from '../build/cache.js'
import {Progress} from '../build/progress.js'
import type {Config} from '../config/types.js'

/**
 * The dev server's background builds, off the main thread: each message is
 * a set of changed sources; the same incremental `build` as the CLI writes
 * `out/`, keeping its memory between runs. The main thread stays free to
 * answer edits while a build runs, and raises `newer` when another edit is
 * waiting: the build then stops once the site and datasets are written, and
 * the next build finishes the decks, corpora and trees.
 */
const {config, newer} = workerData as {config: Config; newer: Int32Array}
const memory: BuildMemory = {}

parentPort?.on('message', (message: {changed?: string[]; compiled?: Array<[string, CompiledMeta]>}) => {
  // The main thread already compiled these (into the same cache folder): the build reuses them.
  for (const [key, meta] of message.compiled ?? []) memory.cache?.setMeta(key, meta)
  if (message.changed && memory.sources) memory.changed = new Set(message.changed)
  else delete memory.sources
  build(config, {memory, progress: new Progress(process.stderr, false), preempt: () => Atomics.load(newer, 0) === 1}).then(
    (result: BuildResult) => parentPort?.postMessage({ok: true, result}),
    (error: Error) => parentPort?.postMessage({ok: false, error: error.message})
  )
})
