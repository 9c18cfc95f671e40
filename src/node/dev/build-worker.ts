import {readlinkSync} from 'node:fs'
import {setPriority} from 'node:os'
import {parentPort, workerData} from 'node:worker_threads'
import {build, type BuildMemory, type BuildResult} from '../build/build.js'
import type {CompiledMeta} from '../build/cache.js'
import {Progress} from '../build/progress.js'
import type {Config} from '../config/types.js'
import {idleCollector} from './idle-gc.js'
import {warmUp} from './warm-up.js'

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
lowerPriority()

/** A build is running (a warm-up then stops). */
let building = false
let warmed = false
const worked = idleCollector()

parentPort?.on('message', (message: {changed?: string[]; compiled?: Array<[string, CompiledMeta]>}) => {
  building = true
  // The main thread already compiled these (into the same cache folder): the build reuses them. Unless the file is
  // gone: the main thread may have found a compile on disk (an edit undone) just before this thread's last build
  // collected it as unused; trusted, this build then failed on the missing file, and out/ stayed behind.
  for (const [key, meta] of message.compiled ?? []) {
    if (!memory.cache) continue
    if (memory.cache.stored(key)) memory.cache.setMeta(key, meta)
    else memory.cache.forget(key)
  }
  if (message.changed && memory.sources) memory.changed = new Set(message.changed)
  else delete memory.sources
  build(config, {memory, progress: new Progress(process.stderr, false), preempt: () => Atomics.load(newer, 0) === 1}).then(
    (result: BuildResult) => {
      building = false
      parentPort?.postMessage({ok: true, result})
      worked()
      // A save that lands while a build starts is compiled here, not by the main thread: warm this thread's
      // pipeline once, after the first build, so that compile is not a cold one (measured 1.1 s at 10,000 pages).
      if (!warmed) {
        warmed = true
        void warmUp(config, Object.keys(memory.cache?.index.files ?? {}), () => building, 2000, 1).catch(() => {})
      }
    },
    (error: Error) => {
      building = false
      parentPort?.postMessage({ok: false, error: error.message})
      worked()
    }
  )
})

/**
 * On a machine with few cores a background build competes with what the author waits for: the edit's compile on
 * the main thread and the browser showing it. Linux gives a thread its own nice value; this thread (and the
 * threads it starts) yields the CPU to them, and still has it all while nothing else wants it.
 */
function lowerPriority(): void {
  try {
    // `/proc/thread-self` names this thread (`<pid>/task/<tid>`): a synchronous call runs on the calling thread.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop())
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, 10)
  } catch {
    // Not Linux, or no /proc: the build runs at the server's priority.
  }
}
