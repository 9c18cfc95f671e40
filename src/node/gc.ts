import {setFlagsFromString} from 'node:v8'
import {runInNewContext} from 'node:vm'

/** V8's collector, which Node exposes only behind a flag: asked for without one. */
export function exposedGc(): (() => void) | undefined {
  const existing = (globalThis as {gc?: () => void}).gc
  if (typeof existing === 'function') return existing
  try {
    // Exposed to contexts made from now on: a new one hands the function over.
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as unknown
    return typeof gc === 'function' ? (gc as () => void) : undefined
  } catch {
    return undefined
  }
}

/**
 * Let each V8 heap grow by `percent` over what survived a collection before the next full one, instead of V8's own
 * rule (1.3× for a heap capped at 128 MB, like the compile workers'; up to 4× for an uncapped one). Process-wide, read
 * at every collection. The outputs after the compile make far more short-lived garbage than they keep (the LitGPT
 * step at 10,000 files grew the heap to ~520 MB around ~170 MB live), so a one-off build collects them sooner.
 */
export function heapGrowth(percent: number): void {
  try {
    setFlagsFromString('--heap-growing-percent=' + percent)
  } catch {
    // A runtime without the flag: V8's own rule stays.
  }
}
