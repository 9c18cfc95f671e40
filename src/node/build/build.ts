import {createHash} from 'node:crypto'
import {existsSync, readFileSync, statSync} from 'node:fs'
import {availableParallelism} from 'node:os'
import path from 'node:path'
import type {Settings} from '../../../plugins/remark-matter/index.js'
import type {FileMessage} from '../compile/types.js'
import type {Config} from '../config/types.js'
import {UserError} from '../errors.js'
import {writeAtomicSync} from '../fs/atomic.js'
import {writeConcat, type ConcatState} from '../outputs/concat.js'
import {searchIndexName, writeSite, type SitePage, type SiteState} from '../outputs/site.js'
import {resolveTheme} from '../site/theme.js'
import {toolKey, toolVersion} from '../version.js'
import {BuildCache, type CompiledMeta} from './cache.js'
import {runCompileTask, type CompileTask, type CompileTaskContext} from './compile-task.js'
import {checkLinks} from './link-check.js'
import {WorkerPool} from './pool.js'
import {Progress} from './progress.js'
import {scanContent} from './scan.js'
import {sourceTimes} from './source-times.js'

export interface BuildOptions {
  /** Ignore the cache (it is still rewritten). */
  clean?: boolean
  /** `false` for `check`: compile and report, write nothing under `out/`. */
  write?: boolean
  /** Include `draft: true` files (the dev server). */
  drafts?: boolean
  /** Worker threads for compiling; default: one per core. */
  workers?: number
  progress?: Progress
}

export interface SourceMessages {
  /** Path relative to the content folder. */
  source: string
  messages: FileMessage[]
}

export interface BuildStats {
  files: number
  compiled: number
  reused: number
  /** Files with at least one error. */
  errors: number
  /** Files left at their last good output because of errors (or left out, without one). */
  keptLastGood: number
  pages: number
  pagesWritten: number
  records: {blocks: number; chapters: number; qa: number}
  timings: {scan: number; compile: number; outputs: number; total: number}
  /** Peak resident memory of the whole process (all threads), in KB. */
  maxRssKB: number
}

export interface BuildResult {
  ok: boolean
  buildId: string
  problems: SourceMessages[]
  stats: BuildStats
}

/** The compile whose output a source publishes: its latest, or its last good one when it has errors (`frozen`). */
interface Chosen {
  source: string
  key: string
  meta: CompiledMeta
  frozen?: boolean
}

interface BuildState {
  version: 1
  out: string
  buildId: string
  site: SiteState
  concat: Record<string, ConcatState>
}

/** Concatenated outputs: the three datasets and the search index. */
const concatOutputs = [
  {name: 'blocks', file: 'datasets/blocks.jsonl'},
  {name: 'chapters', file: 'datasets/chapters.jsonl'},
  {name: 'qa', file: 'datasets/qa.jsonl'},
  {name: 'search', file: 'site/' + searchIndexName}
] as const

/** Compile in the main thread below this many files: starting workers costs more. */
const workerThreshold = 24

/**
 * Build `content/` into `out/`: compile what changed (in parallel), check
 * links, then write the site, the datasets and the manifest. A file with
 * errors keeps its last good output; every error of every file is returned.
 */
export async function build(config: Config, options: BuildOptions = {}): Promise<BuildResult> {
  const started = performance.now()
  const progress = options.progress ?? new Progress()
  const write = options.write !== false
  if (!existsSync(config.content)) throw new UserError('No content folder at ' + config.content + ' (set `content` in tagpress.config.json or pass --content)')
  const stateDir = path.join(config.root, '.tagpress')
  const cache = new BuildCache(stateDir, options.clean === true)
  const tool = toolKey()
  const configKey = hash(JSON.stringify({base: config.site.base}))
  const sources = scanContent(config.content)
  const scanned = performance.now()

  // Plan: reuse every compile whose inputs are unchanged, compile the rest.
  const metas = new Map<string, CompiledMeta>()
  const keys = new Map<string, string>()
  const hashes = new Map<string, string>()
  const tasks: CompileTask[] = []
  const entries: BuildCache['index']['files'] = {}
  for (const stat of sources) {
    const defaults = folderDefaults(config.folders, stat.source)
    const old = cache.index.files[stat.source]
    let value: string | undefined
    let sourceHash: string
    if (old && old.size === stat.size && old.mtimeMs === stat.mtimeMs) sourceHash = old.hash
    else {
      value = readFileSync(path.join(config.content, stat.source), 'utf8')
      sourceHash = hash(value, 64)
    }
    const key = BuildCache.key(tool, configKey, stat.source, sourceHash, defaults)
    keys.set(stat.source, key)
    hashes.set(stat.source, sourceHash)
    entries[stat.source] = {size: stat.size, mtimeMs: stat.mtimeMs, hash: sourceHash, key, ...(old?.good ? {good: old.good} : {})}
    const meta = cache.index.meta[key]
    if (!options.clean && meta && assetsUnchanged(config.content, meta) && cache.has(key)) metas.set(stat.source, meta)
    else tasks.push({source: stat.source, key, value: value ?? readFileSync(path.join(config.content, stat.source), 'utf8'), defaults})
  }

  await compileAll(tasks, {contentDir: config.content, base: config.site.base, stateDir}, cache, options, progress, metas)
  const compiled = performance.now()

  // Errors: the compiles' own, then dead links across the site.
  const published = new Set<string>()
  for (const meta of metas.values()) if (options.drafts || !meta.settings.draft) published.add(meta.fileId)
  const linkProblems = checkLinks(metas, published)
  const problems: SourceMessages[] = []
  const chosen: Chosen[] = []
  let keptLastGood = 0
  for (const {source} of sources) {
    const meta = metas.get(source) as CompiledMeta
    const key = keys.get(source) as string
    const messages = [...meta.messages, ...(linkProblems.get(source) ?? [])].sort((a, b) => a.line - b.line || a.column - b.column)
    const failed = messages.some((message) => message.fatal)
    if (messages.length > 0) problems.push({source, messages})
    const entry = entries[source]
    if (!failed) {
      if (entry) entry.good = key
      if (published.has(meta.fileId)) chosen.push({source, key, meta})
      continue
    }
    keptLastGood++
    const good = entry?.good
    const goodMeta = good ? cache.index.meta[good] : undefined
    if (good && goodMeta && cache.has(good) && (options.drafts || !goodMeta.settings.draft)) chosen.push({source, key: good, meta: goodMeta, frozen: true})
  }

  // The cache index keeps summaries of every live key (current and last good).
  cache.index.files = entries
  for (const [source, meta] of metas) cache.index.meta[keys.get(source) as string] = meta
  cache.save()

  const buildId = hash([toolVersion, tool, configKey, JSON.stringify(config.site), ...sources.map((stat) => stat.source + ' ' + hashes.get(stat.source))].join('\n'), 64)
  const stats: BuildStats = {
    files: sources.length,
    compiled: tasks.length,
    reused: sources.length - tasks.length,
    errors: problems.filter((problem) => problem.messages.some((message) => message.fatal)).length,
    keptLastGood,
    pages: chosen.length,
    pagesWritten: 0,
    records: {blocks: 0, chapters: 0, qa: 0},
    timings: {scan: scanned - started, compile: compiled - scanned, outputs: 0, total: 0},
    maxRssKB: 0
  }
  if (write) {
    await writeOutputs(config, stateDir, cache, chosen, buildId, hashes, stats, progress)
  }
  const finished = performance.now()
  stats.timings.outputs = finished - compiled
  stats.timings.total = finished - started
  stats.maxRssKB = process.resourceUsage().maxRSS
  return {ok: stats.errors === 0, buildId, problems, stats}
}

async function compileAll(
  tasks: CompileTask[],
  context: CompileTaskContext,
  cache: BuildCache,
  options: BuildOptions,
  progress: Progress,
  metas: Map<string, CompiledMeta>
): Promise<void> {
  if (tasks.length === 0) return
  progress.start('compiling', tasks.length)
  let done = 0
  const threads = Math.min(options.workers ?? availableParallelism(), Math.ceil(tasks.length / 8))
  if (tasks.length < workerThreshold || threads < 2) {
    for (const task of tasks) {
      metas.set(task.source, await runCompileTask(task, context, cache))
      progress.tick(++done)
    }
  } else {
    const pool = new WorkerPool<CompiledMeta>(new URL('./worker.js', import.meta.url), threads, context)
    try {
      await Promise.all(
        tasks.map(async (task) => {
          metas.set(task.source, await pool.run(task))
          progress.tick(++done)
        })
      )
    } finally {
      await pool.close()
    }
  }
  progress.done()
}

async function writeOutputs(
  config: Config,
  stateDir: string,
  cache: BuildCache,
  chosen: Chosen[],
  buildId: string,
  hashes: Map<string, string>,
  stats: BuildStats,
  progress: Progress
): Promise<void> {
  const stateFile = path.join(stateDir, 'build-state.json')
  const previous = readState(stateFile, config.out)
  const times = sourceTimes(config.content, chosen.map((item) => item.source))
  const pages: SitePage[] = chosen.map(({source, key, meta, frozen}) => ({source, key, meta, time: times.get(source) ?? 0, ...(frozen ? {frozen} : {})}))
  const theme = await resolveTheme(config.root, stateDir)
  const site = await writeSite(config, pages, cache, theme, previous?.site, progress)

  const concat = writeConcat(
    concatOutputs.map(({name, file}) => ({name, file: path.join(config.out, file), previous: previous?.concat[name]})),
    chosen.map(({source, key, meta}) => ({
      source,
      key,
      include: (target: string) => target === 'search' || meta.settings.datasets !== false,
      parts: () => cache.readParts(key)
    }))
  )

  const outputs: Record<string, unknown> = {
    site: {pages: site.pages, sha256: site.sha256}
  }
  for (const {name, file} of concatOutputs) {
    const state = concat[name] as ConcatState
    outputs[file] = {records: state.records, bytes: state.bytes, sha256: state.sha256}
  }
  const manifest = {
    tool: {name: 'tagpress', version: toolVersion},
    build_id: buildId,
    outputs,
    sources: Object.fromEntries([...hashes].map(([source, sourceHash]) => [source, sourceHash]))
  }
  writeAtomicSync(path.join(config.out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n')
  const state: BuildState = {version: 1, out: config.out, buildId, site: site.state, concat}
  writeAtomicSync(stateFile, JSON.stringify(state))

  stats.pagesWritten = site.written
  stats.records = {
    blocks: concat.blocks?.records ?? 0,
    chapters: concat.chapters?.records ?? 0,
    qa: concat.qa?.records ?? 0
  }
}

/** The previous build's state, if it describes the `out/` that is there now (else everything is rewritten). */
function readState(file: string, out: string): BuildState | undefined {
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as BuildState
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as {build_id?: string}
    return state.version === 1 && state.out === out && manifest.build_id === state.buildId ? state : undefined
  } catch {
    return undefined
  }
}

/** Folder defaults from the config: every folder containing the file, outermost first. */
function folderDefaults(folders: Config['folders'], source: string): Settings {
  const settings: Settings = {}
  const entries = Object.entries(folders)
    .map(([folder, value]) => [folder.replace(/^\.?\/+|\/+$/g, ''), value] as const)
    .filter(([folder]) => folder === '' || source.startsWith(folder + '/'))
    .sort(([a], [b]) => a.length - b.length)
  for (const [, value] of entries) Object.assign(settings, value)
  return settings
}

function assetsUnchanged(contentDir: string, meta: CompiledMeta): boolean {
  for (const asset of meta.assets) {
    const stat = statSync(path.join(contentDir, asset.source), {throwIfNoEntry: false})
    if (!stat || stat.size !== asset.size || stat.mtimeMs !== asset.mtimeMs) return false
  }
  return true
}

function hash(value: string, length = 32): string {
  return createHash('sha256').update(value).digest('hex').slice(0, length)
}
