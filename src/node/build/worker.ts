import {parentPort, workerData} from 'node:worker_threads'
import {BuildCache} from './cache.js'
import {runCompileTask, type CompileTask, type CompileTaskContext} from './compile-task.js'

const context = workerData as CompileTaskContext
// Workers only write cache files; the main thread owns the index.
const cache = new BuildCache(context.stateDir, true)

parentPort?.on('message', (task: CompileTask) => {
  runCompileTask(task, context, cache).then(
    (value) => parentPort?.postMessage({ok: true, value}),
    (error: Error) => parentPort?.postMessage({ok: false, error: error.stack ?? String(error)})
  )
})
