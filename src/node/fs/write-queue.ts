import {writeAtomic} from './atomic.js'

/**
 * Many files written aside and renamed (`writeAtomic`), a few at a time on
 * the thread pool, so the caller goes on rendering the next ones meanwhile:
 * at 10,000 pages, the site's writes (two files a page, three file-system
 * calls a file) held the main thread for ~4 s of a ~7 s step. The first
 * failure is thrown by the next `write` or by `drain`, which waits for all.
 */
export class WriteQueue {
  private readonly pending = new Set<Promise<void>>()
  private failure: {error: unknown} | undefined

  constructor(private readonly limit = 16) {}

  /** Start writing `file`; waits only while `limit` writes are under way. */
  async write(file: string, data: string | Uint8Array): Promise<void> {
    this.throwFailure()
    while (this.pending.size >= this.limit) await Promise.race(this.pending)
    const job: Promise<void> = writeAtomic(file, data).then(
      () => {
        this.pending.delete(job)
      },
      (error: unknown) => {
        this.pending.delete(job)
        this.failure ??= {error}
      }
    )
    this.pending.add(job)
  }

  /** Wait for every write started; throw the first failure. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending)
    this.throwFailure()
  }

  private throwFailure(): void {
    if (this.failure) throw this.failure.error
  }
}
