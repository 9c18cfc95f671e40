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
 * Let V8's heap grow by `percent` over what survived a collection before it
 * collects again, instead of up to 4× by its own rule. The outputs after the
 * compile make far more short-lived garbage than they keep (the LitGPT step at
 * 10,000 files grew the heap to ~520 MB around ~170 MB live), so a one-off
 * build trades some collections for a peak near what it holds. Process-wide.
 */
export function growHeapSlowly(percent: number): void {
  try {
    setFlagsFromString('--heap-growing-percent=' + percent)
  } catch {
    // A runtime without the flag: V8's own rule stays.
  }
}
