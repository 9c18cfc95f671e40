import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {afterAll, describe, expect, it} from 'vitest'
import {WorkerPool} from '../src/node/build/pool.js'
import {exposedGc} from '../src/node/gc.js'

// The build's worker pool: compile tasks carry their source's text, 46 MB at 10,000 files, and the main thread
// should not keep a task's text once a worker has its own copy.
const dir = mkdtempSync(path.join(tmpdir(), 'tagpress-pool-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

// Replies with the text's length, but only once the test says so (through the shared flag in workerData).
const worker = path.join(dir, 'worker.mjs')
writeFileSync(
  worker,
  `import {parentPort, workerData} from 'node:worker_threads'
const flag = new Int32Array(workerData)
parentPort.on('message', (task) => {
  Atomics.wait(flag, 0, 0)
  parentPort.postMessage({ok: true, value: task.text.length})
})
`
)

const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

describe('worker pool', () => {
  it('lets go of a message once it is posted, while the worker is still busy with it', async () => {
    const gc = exposedGc()
    expect(typeof gc).toBe('function')
    const shared = new SharedArrayBuffer(4)
    const flag = new Int32Array(shared)
    const pool = new WorkerPool<number>(pathToFileURL(worker), 1, shared)
    try {
      let task: {text: string} | undefined = {text: 'x'.repeat(1_000_000)}
      const probe = new WeakRef(task)
      const result = pool.run(() => task)
      task = undefined
      // The worker is blocked on the flag: the job is running, and the pool still holds its record.
      await nextTurn()
      gc?.()
      await nextTurn()
      gc?.()
      expect(probe.deref()).toBeUndefined()
      Atomics.store(flag, 0, 1)
      Atomics.notify(flag, 0)
      expect(await result).toBe(1_000_000)
    } finally {
      Atomics.store(flag, 0, 1)
      Atomics.notify(flag, 0)
      await pool.close()
    }
  })

  it('runs more jobs than it has workers and returns each result to its own caller', async () => {
    const shared = new SharedArrayBuffer(4)
    Atomics.store(new Int32Array(shared), 0, 1)
    const pool = new WorkerPool<number>(pathToFileURL(worker), 2, shared)
    try {
      const lengths = await Promise.all([1, 20, 300, 4000, 50].map((length) => pool.run(() => ({text: 'y'.repeat(length)}))))
      expect(lengths).toEqual([1, 20, 300, 4000, 50])
    } finally {
      await pool.close()
    }
  })

  it('makes each message when a worker takes the job, and a message that cannot be made fails only its job', async () => {
    const shared = new SharedArrayBuffer(4)
    Atomics.store(new Int32Array(shared), 0, 1)
    const pool = new WorkerPool<number>(pathToFileURL(worker), 1, shared)
    try {
      const made: number[] = []
      const job = (length: number) => () => {
        made.push(length)
        if (length === 0) throw new Error('no such file')
        return {text: 'z'.repeat(length)}
      }
      const results = [3, 0, 5, 7].map((length) => pool.run(job(length)))
      // One worker: the first message is made at once, the rest as the worker comes free.
      expect(made).toEqual([3])
      const settled = await Promise.allSettled(results)
      expect(made).toEqual([3, 0, 5, 7])
      expect(settled.map((result) => (result.status === 'fulfilled' ? result.value : (result.reason as Error).message))).toEqual([3, 'no such file', 5, 7])
    } finally {
      await pool.close()
    }
  })
})
