import {readFileSync} from 'node:fs'
import path from 'node:path'
import type {Config} from '../config/types.js'

/**
 * Compile some of the site's files, discarding the results, so that the next
 * real compile in this thread runs optimized code: a thread's first compile
 * loads the pipeline and the highlighter and runs in the interpreter (~0.6 s,
 * against ~25 ms once warm). Yields between files, stops as soon as `stop()`
 * says real work waits, and after `budgetMs`.
 */
export async function warmUp(config: Config, sources: string[], stop: () => boolean, budgetMs = 3000, rounds = 3): Promise<void> {
  const {compileFile} = await import('../compile/compile-file.js')
  const started = performance.now()
  const sample = sources.slice(0, 40)
  for (let round = 0; round < rounds; round++) {
    for (const source of sample) {
      if (stop() || performance.now() - started > budgetMs) return
      let value: string
      try {
        value = readFileSync(path.join(config.content, source), 'utf8')
      } catch {
        continue
      }
      await compileFile({source, value, defaults: {}}, {contentDir: config.content, base: config.site.base})
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
}
