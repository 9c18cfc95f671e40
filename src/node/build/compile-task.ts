import type {Settings} from '../../../plugins/remark-matter/index.js'
import {compileFile, type CompileContext} from '../compile/compile-file.js'
import {rememberHighlights} from '../compile/highlight.js'
import {BuildCache, type CompiledMeta} from './cache.js'

export interface CompileTask {
  source: string
  /** The source text, as hashed by the main thread (so key and content agree). */
  value: string
  key: string
  defaults: Settings
  /** The key of this file's previous compile, whose highlighted code can be reused. */
  previous?: string
}

export interface CompileTaskContext extends CompileContext {
  /** The `.tagpress` folder. */
  stateDir: string
}

/**
 * Compile one file and store it in the cache; return only its summary, so
 * the large parts never cross threads or stay in memory.
 */
export async function runCompileTask(task: CompileTask, context: CompileTaskContext, cache: BuildCache): Promise<CompiledMeta> {
  if (task.previous) {
    const detail = cache.readDetail(task.previous)
    if (detail?.code) rememberHighlights(detail.code)
  }
  const compiled = await compileFile({source: task.source, value: task.value, defaults: task.defaults}, context)
  const {meta, data} = BuildCache.encode(compiled)
  cache.write(task.key, data)
  return meta
}
