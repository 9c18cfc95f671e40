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
