import {Worker, type ResourceLimits} from 'node:worker_threads'

interface Job<T> {
  /** Made when a worker takes the job, and dropped once posted: the worker has its own copy (a compile task's source text, for one). */
  message?: () => unknown
  resolve: (value: T) => void
  reject: (error: Error) => void
}

/**
 * A fixed set of worker threads taking jobs in order; each job is one
 * message in, one message out. A worker that crashes fails its job and the
 * pool, instead of hanging the build.
 */
export class WorkerPool<T> {
  private readonly idle: Worker[] = []
  /** Jobs not started yet, from `head` on (a list of 10,000 is not shifted: each shift copies the rest). */
  private queue: Array<Job<T>> = []
  private head = 0
  private readonly running = new Map<Worker, Job<T>>()
  private readonly workers: Worker[] = []
  private failure: Error | undefined

  constructor(url: URL, size: number, workerData: unknown, limits?: ResourceLimits) {
    for (let index = 0; index < size; index++) {
      const worker = new Worker(url, {workerData, ...(limits ? {resourceLimits: limits} : {})})
      worker.on('message', (value: {ok: true; value: T} | {ok: false; error: string}) => {
        const job = this.running.get(worker)
        this.running.delete(worker)
        if (job) {
          if (value.ok) job.resolve(value.value)
          else job.reject(new Error(value.error))
        }
        this.release(worker)
      })
      worker.on('error', (error) => this.fail(worker, error))
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(worker, new Error('A build worker exited with code ' + code))
      })
      this.workers.push(worker)
      this.idle.push(worker)
    }
  }

  /** A job whose message is made when a worker is free for it (so that a long queue holds no large messages). */
  run(message: () => unknown): Promise<T> {
    if (this.failure) return Promise.reject(this.failure)
    return new Promise<T>((resolve, reject) => {
      this.queue.push({message, resolve, reject})
      this.pump()
    })
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()))
  }

  private release(worker: Worker): void {
    this.idle.push(worker)
    this.pump()
  }

  private pump(): void {
    while (this.idle.length > 0 && this.head < this.queue.length) {
      const worker = this.idle.pop() as Worker
      const job = this.queue[this.head] as Job<T>
      delete this.queue[this.head++]
      if (this.head === this.queue.length) {
        this.queue = []
        this.head = 0
      }
      let message: unknown
      try {
        message = (job.message as () => unknown)()
      } catch (error) {
        // Its message could not be made (a source deleted since it was planned): that job fails, the worker takes the next.
        job.reject(error as Error)
        this.idle.push(worker)
        continue
      }
      delete job.message
      this.running.set(worker, job)
      worker.postMessage(message)
    }
  }

  private fail(worker: Worker, error: Error): void {
    this.failure ??= error
    this.running.get(worker)?.reject(error)
    this.running.delete(worker)
    const waiting = this.queue.slice(this.head)
    this.queue = []
    this.head = 0
    for (const job of waiting) job.reject(error)
  }
}
