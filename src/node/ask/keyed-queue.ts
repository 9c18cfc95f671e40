/**
 * Tasks run one at a time per key, in the order they were queued, within
 * this process (one writer per document or node); a failed task does not
 * stop the ones after it.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>()

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve()
    const run = previous.then(task, task)
    const settled = run.catch(() => undefined)
    this.tails.set(key, settled)
    void settled.then(() => {
      if (this.tails.get(key) === settled) this.tails.delete(key)
    })
    return run
  }

  /** Resolves when every task queued so far has ended. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.tails.values()])
  }
}
