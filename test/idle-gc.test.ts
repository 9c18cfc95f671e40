import {afterEach, describe, expect, it, vi} from 'vitest'
import {idleCollector} from '../src/node/dev/idle-gc.js'
import {exposedGc} from '../src/node/gc.js'

// The dev server's threads collect their garbage once they have been idle a while (RSS flat over 500 edits).
afterEach(() => {
  vi.useRealTimers()
})

describe('idle garbage collection', () => {
  it('collects once, after the last piece of work has been followed by idleMs without any', () => {
    vi.useFakeTimers()
    const collect = vi.fn()
    const worked = idleCollector(1000, collect)
    worked()
    vi.advanceTimersByTime(600)
    worked() // more work: the wait starts again
    vi.advanceTimersByTime(600)
    expect(collect).not.toHaveBeenCalled()
    vi.advanceTimersByTime(400)
    expect(collect).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(5000)
    expect(collect).toHaveBeenCalledTimes(1)
  })

  it('gets V8\'s collector without --expose-gc, and it frees what nothing holds', async () => {
    const gc = exposedGc()
    expect(typeof gc).toBe('function')
    const probe = new WeakRef({payload: new Array(1000).fill(1)})
    // A WeakRef's target lives until the current job ends.
    await new Promise((resolve) => setImmediate(resolve))
    gc?.()
    expect(probe.deref()).toBeUndefined()
  })
})
