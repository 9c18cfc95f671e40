import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, readFileSync, statSync} from 'node:fs'
import {availableParallelism} from 'node:os'
import {setTimeout as delay} from 'node:timers/promises'
import type {ResourceLimits} from 'node:worker_threads'
import path from 'node:path'
import type {Settings} from '../../../plugins/remark-matter/index.js'
import type {FileMessage} from '../compile/types.js'
import type {Config} from '../config/types.js'
import {UserError} from '../errors.js'
import {writeAtomicSync} from '../fs/atomic.js'
import {exposedGc, heapGrowth} from '../gc.js'
import {hashConcat, writeConcat, type ConcatState} from '../outputs/concat.js'
import {buildOutputs} from '../outputs/registry.js'
import type {SyncReport} from '../mongo/sync.js'
import type {PublishedFile} from '../outputs/types.js'
import {writeDownloads, type ManifestEntry} from '../outputs/downloads.js'
import {removeStale, searchIndexName, writeSite, type SitePage, type SiteState} from '../outputs/site.js'
import {resolveTheme, type Theme} from '../site/theme.js'
import {toolKey, toolVersion} from '../version.js'
import {BuildCache, cacheFormat, type CompiledDetail, type CompiledMeta, type FileEntry} from './cache.js'
import type {CompileTask, CompileTaskContext} from './compile-task.js'
import {checkLinks} from './link-check.js'
import {WorkerPool} from './pool.js'
import {Progress} from './progress.js'
import {rescan, scanContent, type SourceStat} from './scan.js'
import {insideGit, sourceTimes} from './source-times.js'

/**
 * What a long-running process (the dev server) keeps between builds, so a
 * rebuild reads nothing it already knows: the cache index and summaries, the
 * last scan, the last state; and, after a build, what it published.
 */
export interface BuildMemory {
  cache?: BuildCache
  state?: BuildState
  sources?: SourceStat[]
  /** Sources (paths in the content folder) changed since the last build; with `sources`, only these are looked at. */
  changed?: Set<string>
  /** Set by each build that writes: the published files, in order. */
  published?: PublishedFile[]
}

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
  /** State kept between builds by a long-running process. */
  memory?: BuildMemory
  /**
   * Asked after the site and the datasets are written: `true` stops the build there (the dev server, when a
   * newer edit is waiting). Decks, LitGPT files, trees and the manifest keep their previous state and are
   * brought up to date by the next build, which the caller must run.
   */
  preempt?: () => boolean
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
  /** Milliseconds; `steps` splits the outputs (site, datasets, each later output, downloads). */
  timings: {scan: number; compile: number; outputs: number; total: number; steps: Record<string, number>}
  /** Peak resident memory of the whole process (all threads), in KB. */
  maxRssKB: number
}

export interface BuildResult {
  ok: boolean
  buildId: string
  problems: SourceMessages[]
  /** What the MongoDB sync did, when a URI is configured; `error` when it failed (the local outputs are written). */
  mongo?: SyncReport & {error?: string}
  /** Things worth knowing that are not errors (a deck note that lost its identity, a record over the context length). */
  warnings: string[]
  stats: BuildStats
  /** Stopped after the site and the datasets (`options.preempt`): the other outputs are the previous build's. */
  preempted?: boolean
}

/** The compile whose output a source publishes: its latest, or its last good one when it has errors (`frozen`). */
interface Chosen {
  source: string
  key: string
  meta: CompiledMeta
  frozen?: boolean
}

export interface BuildState {
  version: 2
  out: string
  buildId: string
  gitHead: string
  /** Content assets the site copied: `[source, size, mtimeMs]`. */
  assets: Array<[string, number, number]>
  site: SiteState
  concat: Record<string, ConcatState>
  /** Each later output's own state (see `BuildOutput`). */
  outputs: Record<string, unknown>
  /** The build stopped after the site and datasets (`BuildOptions.preempt`): the rest is the previous build's. */
  stopped?: true
  /** What the build reported, returned again when nothing has changed since. */
  result: {errors: number; keptLastGood: number; pages: number; records: BuildStats['records']; problems: SourceMessages[]}
}

/** Concatenated outputs: the three datasets and the search index. */
const datasetOutputs = [
  {name: 'blocks', file: 'datasets/blocks.jsonl'},
  {name: 'chapters', file: 'datasets/chapters.jsonl'},
  {name: 'qa', file: 'datasets/qa.jsonl'}
] as const
const searchOutput = {name: 'search', file: 'site/' + searchIndexName} as const
const concatOutputs = [...datasetOutputs, searchOutput] as const

/**
 * Heap limits for compile workers: a compile needs little, and V8 otherwise
 * lets each thread's heap grow far beyond it (peak memory is a target). The
 * young generation: 16 MB, not 32, is ~30 MB less at the compile's peak for
 * 3–5% more compile time (10,000 files, 2026-12-08); 8 MB, ~20 MB less again
 * for ~10%. `TAGPRESS_WORKER_HEAP_MB` and `TAGPRESS_WORKER_YOUNG_MB` override them.
 */
function workerLimits(): ResourceLimits {
  return {maxOldGenerationSizeMb: Number(process.env.TAGPRESS_WORKER_HEAP_MB) || 128, maxYoungGenerationSizeMb: Number(process.env.TAGPRESS_WORKER_YOUNG_MB) || 16}
}

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
  const memory = options.memory
  const cache = memory?.cache ?? new BuildCache(stateDir, options.clean === true)
  const fingerprint = fingerprintOf(config)
  const sameTool = cache.index.fingerprint === fingerprint
  const sources = memory?.sources && memory.changed ? rescan(config.content, memory.sources, memory.changed) : scanContent(config.content)
  if (memory) {
    memory.cache = cache
    memory.sources = sources
    delete memory.changed
  }
  const folders = folderRules(config.folders)
  const scanned = performance.now()

  // Plan: a source whose size, time and settings are unchanged keeps its key; changed ones are hashed.
  const keys = new Map<string, string>()
  const hashes = new Map<string, string>()
  const entries: Record<string, FileEntry> = {}
  let unchanged = sameTool && !options.clean && sources.length === Object.keys(cache.index.files).length
  for (const stat of sources) {
    const defaults = folderDefaults(folders, stat.source)
    const old = cache.index.files[stat.source]
    let sourceHash: string
    // (The text is not kept: a file to compile is read again when its turn comes, `readTask`.)
    if (old && old.size === stat.size && old.mtimeMs === stat.mtimeMs) sourceHash = old.hash
    else sourceHash = hash(readFileSync(path.join(config.content, stat.source), 'utf8'), 64)
    const key = sameTool && old?.hash === sourceHash ? old.key : BuildCache.key(fingerprint, stat.source, sourceHash, defaults)
    if (key !== old?.key) unchanged = false
    keys.set(stat.source, key)
    hashes.set(stat.source, sourceHash)
    entries[stat.source] = {size: stat.size, mtimeMs: stat.mtimeMs, hash: sourceHash, key, ...(old?.good ? {good: old.good} : {}), ...(old?.messages && key === old.key ? {messages: true as const} : {})}
  }

  const theme = write ? await resolveTheme(config.root, stateDir) : undefined
  // Everything that shapes an output: the tool, the compile fingerprint, the theme, and the config of each output.
  const buildIdOf = (): string => hash([toolVersion, fingerprint, theme?.key ?? '', JSON.stringify([config.site, config.anki, config.litgpt, config.mongo.db]), options.drafts ? 'drafts' : '', ...sources.map((stat) => stat.source + ' ' + hashes.get(stat.source))].join('\n'), 64)
  let buildId = buildIdOf()

  // Nothing changed since the last build of this out/: its result stands.
  const stateFile = path.join(stateDir, 'build-state.json')
  const previous = write ? (memory?.state && existsSync(path.join(config.out, 'manifest.json')) ? memory.state : readState(stateFile, config.out)) : undefined
  // (A MongoDB sync always runs: the database may have changed behind our back, and the sync is cheap when nothing did.)
  if (unchanged && !config.mongo.uri && previous && !previous.stopped && previous.buildId === buildId && previous.gitHead === gitHead(config.content) && assetsIntact(config.content, previous)) {
    const finished = performance.now()
    return {
      ok: previous.result.errors === 0,
      buildId,
      problems: previous.result.problems,
      warnings: [],
      stats: {
        files: sources.length, compiled: 0, reused: sources.length, errors: previous.result.errors, keptLastGood: previous.result.keptLastGood,
        pages: previous.result.pages, pagesWritten: 0, records: previous.result.records,
        timings: {scan: scanned - started, compile: 0, outputs: 0, total: finished - started, steps: {}}, maxRssKB: process.resourceUsage().maxRSS
      }
    }
  }

  const metas = new Map<string, CompiledMeta>()
  const tasks: PlannedTask[] = []
  const warnings: string[] = []
  for (const stat of sources) {
    let key = keys.get(stat.source) as string
    let meta = options.clean ? undefined : cache.meta(key)
    let current = meta !== undefined && assetsUnchanged(config.content, meta)
    if (meta && !current) {
      // An image it shows changed, its text did not: the compile names the image by its new content hash, so it
      // needs a key of its own, or every output that goes by the key (pages, datasets, cards) would keep the old name.
      key = withAssets(key, config.content, meta)
      keys.set(stat.source, key)
      ;(entries[stat.source] as FileEntry).key = key
      meta = cache.meta(key)
      current = meta !== undefined && assetsUnchanged(config.content, meta)
    }
    if (meta && current && cache.has(key)) metas.set(stat.source, meta)
    else {
      const previous = cache.index.files[stat.source]?.key
      tasks.push({source: stat.source, key, hash: hashes.get(stat.source) as string, defaults: folderDefaults(folders, stat.source), ...(previous && previous !== key ? {previous} : {})})
    }
  }
  const compiledCount = tasks.length
  let changedSince = false
  /**
   * A task's text, read when its turn comes rather than held from the plan on (at 10,000 files, ~46 MB of strings
   * at the start of the compile, its peak). A file saved since it was planned is compiled as it is now, under the key
   * of what is compiled, and the next build looks at it again.
   */
  const readTask = (task: PlannedTask): CompileTask => {
    const {hash: planned, ...rest} = task
    let value: string
    try {
      value = readFileSync(path.join(config.content, task.source), 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      throw new UserError(path.relative(process.cwd(), path.join(config.content, task.source)) + ' was removed while the build ran; run the build again')
    }
    const sourceHash = hash(value, 64)
    if (sourceHash === planned) return {...rest, value}
    const key = BuildCache.key(fingerprint, task.source, sourceHash, task.defaults)
    keys.set(task.source, key)
    hashes.set(task.source, sourceHash)
    Object.assign(entries[task.source] as FileEntry, {hash: sourceHash, key, mtimeMs: -1})
    changedSince = true
    return {...rest, key, value}
  }

  // A one-off build sets how far V8 lets each heap grow between collections (process-wide, so the workers too; the dev
  // server's builds leave V8's rule alone): the compile workers' capped heaps would otherwise collect fully at 1.3× what
  // survived (~30 MB): 2× is ~10% less CPU for the 1,000-file bench corpus at ~25 MB more. After the compile, see `writeOutputs`.
  if (!options.preempt) heapGrowth(100)
  await compileAll(tasks, readTask, {contentDir: config.content, base: config.site.base, stateDir}, cache, options, progress, metas)
  const compiled = performance.now()
  if (changedSince) buildId = buildIdOf()

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
    const entry = entries[source] as FileEntry
    if (messages.length > 0) {
      problems.push({source, messages})
      entry.messages = true
    } else delete entry.messages
    if (!failed) {
      entry.good = key
      if (published.has(meta.fileId)) chosen.push({source, key, meta})
      continue
    }
    keptLastGood++
    const good = entry.good
    const goodMeta = good ? cache.meta(good) : undefined
    if (good && goodMeta && cache.has(good) && (options.drafts || !goodMeta.settings.draft)) chosen.push({source, key: good, meta: goodMeta, frozen: true})
  }

  cache.index = {version: 2, fingerprint, files: entries}
  for (const [source, meta] of metas) if (cache.meta(keys.get(source) as string) !== meta) cache.setMeta(keys.get(source) as string, meta)

  const stats: BuildStats = {
    files: sources.length,
    compiled: compiledCount,
    reused: sources.length - compiledCount,
    errors: problems.filter((problem) => problem.messages.some((message) => message.fatal)).length,
    keptLastGood,
    pages: chosen.length,
    pagesWritten: 0,
    records: {blocks: 0, chapters: 0, qa: 0},
    timings: {scan: scanned - started, compile: compiled - scanned, outputs: 0, total: 0, steps: {}},
    maxRssKB: 0
  }
  let mongo: BuildResult['mongo']
  let preempted = false
  // The cache index is saved once the outputs are written (megabytes of JSON at 10,000 files, which an edit's
  // datasets should not wait for); a build that dies before only costs the next one a recompile of these files.
  try {
    if (write && theme) {
      const written = await writeOutputs(config, previous, theme, cache, chosen, buildId, hashes, new Map(sources.map((stat) => [stat.source, stat.mtimeMs])), stats, progress, warnings, options.preempt, compiled)
      const {published, state} = written
      preempted = written.preempted
      if (config.mongo.uri && !preempted) mongo = await syncMongo(config, published, stats.errors === 0, progress)
      state.result = {errors: stats.errors, keptLastGood, pages: stats.pages, records: stats.records, problems}
      writeAtomicSync(stateFile, JSON.stringify(state))
      if (memory) {
        memory.state = state
        memory.published = published
      }
    }
  } finally {
    // A stopped build of the dev server leaves the index to the next build (its worker keeps the cache in memory;
    // should it die first, the next start only recompiles the files changed since).
    if (!(preempted && memory)) cache.save()
  }
  const finished = performance.now()
  stats.timings.outputs = finished - compiled
  stats.timings.total = finished - started
  stats.maxRssKB = process.resourceUsage().maxRSS
  return {ok: stats.errors === 0 && !mongo?.error, buildId, problems, warnings, stats, ...(mongo ? {mongo} : {}), ...(preempted ? {preempted} : {})}
}

/** A file to compile, as planned: its text is read when it is compiled (`readTask`). */
type PlannedTask = Omit<CompileTask, 'value'> & {hash: string}

async function compileAll(
  tasks: PlannedTask[],
  readTask: (task: PlannedTask) => CompileTask,
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
  // Taken out of the caller's list, so that each task is freed once compiled or handed to a worker.
  const queue = tasks.splice(0)
  if (queue.length < workerThreshold || threads < 2) {
    // Loaded only when something must be compiled: a warm build never pays for the pipeline's modules.
    const {runCompileTask} = await import('./compile-task.js')
    for (let index = 0; index < queue.length; index++) {
      const task = queue[index] as PlannedTask
      metas.set(task.source, await runCompileTask(readTask(task), context, cache))
      // (Not `shift`, which copies the rest of a long list each time: a one-core machine compiles every file here.)
      delete queue[index]
      progress.tick(++done)
    }
  } else {
    const pool = new WorkerPool<CompiledMeta>(new URL('./worker.js', import.meta.url), threads, context, workerLimits())
    try {
      const sources = queue.map((task) => task.source)
      const results = queue.map((task) => pool.run(() => readTask(task)))
      queue.length = 0
      await Promise.all(
        results.map(async (result, index) => {
          metas.set(sources[index] as string, await result)
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
  previous: BuildState | undefined,
  theme: Theme,
  cache: BuildCache,
  chosen: Chosen[],
  buildId: string,
  hashes: Map<string, string>,
  mtimes: Map<string, number>,
  stats: BuildStats,
  progress: Progress,
  warnings: string[],
  preempt: (() => boolean) | undefined,
  /** When compiling ended: `prepare` is the time from there to the first output (link checks). */
  since: number
): Promise<{published: PublishedFile[]; state: BuildState; preempted: boolean}> {
  let lap = since
  const time = (name: string): void => {
    const now = performance.now()
    stats.timings.steps[name] = Math.round(now - lap)
    lap = now
  }
  time('prepare')
  // The datasets first: they are what a dev-server edit waits for on disk (its page is served from memory); the
  // site's search index after them (the same splice, a file as large as the datasets together at 10,000 pages).
  const searchParts = new Map<string, string>()
  const concat = writeConcat(
    datasetOutputs.map(({name, file}) => ({name, file: path.join(config.out, file), previous: previous?.concat[name]})),
    chosen.flatMap(({source, key, meta}) =>
      meta.settings.datasets === false
        ? []
        : [{
            source,
            key,
            include: () => true,
            parts: () => {
              const parts = cache.readParts(key, ['blocks', 'chapters', 'qa', 'search'])
              // An edit's few changed files are not read twice; a cold build's thousands are, rather than held.
              if (searchParts.size < 256) searchParts.set(key, parts.search)
              return parts
            }
          }]
    )
  )
  time('datasets')
  // "Last updated" asks git (processes to start): after the datasets, which do not show it.
  const times = sourceTimes(config.content, new Map(chosen.map((item) => [item.source, mtimes.get(item.source) ?? 0])))
  const pages: SitePage[] = chosen.map(({source, key, meta, frozen}) => ({source, key, meta, time: times.get(source) ?? 0, ...(frozen ? {frozen} : {})}))
  // Decks, LitGPT corpora, trees: each from the published files, each with its own state.
  const published: PublishedFile[] = pages.map((page) => ({
    source: page.source,
    key: page.key,
    meta: page.meta,
    time: page.time,
    detail: () => JSON.parse(cache.readParts(page.key, ['detail']).detail) as CompiledDetail,
    parts: () => cache.readParts(page.key, ['blocks', 'chapters', 'qa'])
  }))
  stats.records = {blocks: concat.blocks?.records ?? 0, chapters: concat.chapters?.records ?? 0, qa: concat.qa?.records ?? 0}
  // A newer edit waits (the dev server, which serves pages from memory): once the datasets are current, the build
  // may stop before the site or between its pages; the rest stays the previous build's, as the state says, and the
  // next build writes it.
  const stopped = (siteState?: SiteState): {published: PublishedFile[]; state: BuildState; preempted: boolean} => {
    const result = {errors: 0, keptLastGood: 0, pages: stats.pages, records: stats.records, problems: []}
    const state: BuildState = {...(previous as BuildState), concat: {...previous?.concat, ...concat}, ...(siteState ? {site: siteState} : {}), stopped: true, result}
    return {published, state, preempted: true}
  }
  if (previous && preempt?.()) return stopped()
  const search = writeConcat(
    [{name: 'search', file: path.join(config.out, searchOutput.file), previous: previous?.concat.search}],
    chosen.map(({source, key}) => ({source, key, include: () => true, parts: () => ({search: searchParts.get(key) ?? cache.readParts(key, ['search']).search})})),
    // (The search index, as large as the datasets together, may be left for the next build too.)
    () => previous !== undefined && preempt?.() === true
  )
  if (!search) return stopped()
  Object.assign(concat, search)
  // (Asked again here: the navigation of every page is built before the first page's turn to ask.)
  if (previous && preempt?.()) return stopped()
  const site = await writeSite(config, pages, cache, theme, previous?.site, progress, preempt)
  time('site')
  if (site.stopped) {
    stats.pagesWritten = site.written
    return stopped(site.state)
  }

  const outputs: Record<string, unknown> = {
    site: {pages: site.pages, sha256: site.sha256}
  }
  // Hashed when the manifest is written: a build that a newer edit stops never reads the datasets back.
  const concatEntries = concatOutputs.map(({name, file}) => {
    const state = concat[name] as ConcatState
    const entry = {records: state.records, bytes: state.bytes, sha256: ''}
    outputs[file] = entry
    return {entry, state, file}
  })

  const outputStates: Record<string, unknown> = {}
  let preempted = false
  // Each output after the site holds the whole corpus in its own form (the deck, the LitGPT splits, the trees): a full
  // collection before each keeps one's garbage from adding to the next one's peak (10,000 files: 1,076 → 913 MB cold,
  // ~670 → ~490 MB on an edit; a few hundred ms at that size). Not in the dev server's builds (`preempt`): a newer
  // edit would wait for it, and that thread collects when idle. Within each output, the heap grows by 60% between
  // full collections instead of up to 4× (10,000 files, cold: the LitGPT step's peak 880 → 557 MB at 30%; with the
  // source texts freed and a smaller LitGPT memo, 30% only kept that step further below the deck's peak, which is
  // buffers, not garbage, and cost ~1 s of collections on an edit). After each collection, a turn of the event loop:
  // V8 frees dead buffers' memory on a background thread, and one output's (the deck's were ~150 MB while sql.js
  // wrote it) were otherwise still held when the next step began.
  const collect = preempt ? undefined : exposedGc()
  if (!preempt) heapGrowth(60)
  for (const output of await buildOutputs()) {
    if (collect) {
      collect()
      await delay(1)
    }
    const result = preempted || preempt?.() ? undefined : await output.write({
      config, stateDir: path.join(config.root, '.tagpress'), buildId, files: published, progress,
      previous: previous?.outputs?.[output.name], warn: (message) => warnings.push(message), ...(preempt ? {stopping: preempt} : {})
    })
    if (!result || result.stopped) {
      // Not written (a newer edit waits): its files and state stay the previous build's, which the next build compares against.
      if (!preempted) time(output.name + ' (stopped)')
      preempted = true
      if (previous?.outputs?.[output.name] !== undefined) outputStates[output.name] = previous.outputs[output.name]
      continue
    }
    for (const file of result.files) outputs[file.path] = {records: file.records, bytes: file.bytes, sha256: file.sha256}
    if (result.state !== undefined) outputStates[output.name] = result.state
    time(output.name)
  }
  if (preempted) {
    // No manifest or download pages yet: the previous build's other files stay, listed in this state, so the
    // next build removes the ones it does not write; pages of removed sources go now.
    site.state.files = [...new Set([...site.state.files, ...(previous?.site.files ?? [])])].sort()
  } else {
    for (const {entry, state, file} of concatEntries) entry.sha256 = hashConcat(state, path.join(config.out, file))
    const manifest = {
      tool: {name: 'tagpress', version: toolVersion},
      build_id: buildId,
      outputs,
      sources: Object.fromEntries([...hashes].map(([source, sourceHash]) => [source, sourceHash]))
    }
    writeAtomicSync(path.join(config.out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n')
    // The generated Datasets and Train pages.
    site.state.files = [...new Set([...site.state.files, ...writeDownloads(config, site.nav, site.assets, outputs as Record<string, ManifestEntry>, buildId)])].sort()
  }
  // What the previous build left that this one did not write.
  removeStale(path.join(config.out, 'site'), previous?.site, site.state)
  if (!preempted) time('downloads')
  stats.pagesWritten = site.written
  stats.records = {
    blocks: concat.blocks?.records ?? 0,
    chapters: concat.chapters?.records ?? 0,
    qa: concat.qa?.records ?? 0
  }
  const assets = chosen.flatMap(({meta}) => meta.assets.map((asset): [string, number, number] => [asset.source, asset.size, asset.mtimeMs]))
  const state: BuildState = {
    // A stopped build wrote no manifest: it keeps the id of the one on disk (so the next build still trusts this
    // state for what it reuses) and says it stopped (so the next build never takes "nothing changed" for an answer).
    version: 2, out: config.out, buildId: preempted ? (previous?.buildId ?? '') : buildId, ...(preempted ? {stopped: true as const} : {}),
    gitHead: gitHead(config.content), assets, site: site.state, concat, outputs: outputStates,
    result: {errors: 0, keptLastGood: 0, pages: stats.pages, records: stats.records, problems: []}
  }
  return {published, state, preempted}
}

/**
 * Write the trees to MongoDB after the local outputs: a failure there is
 * reported (and makes the build fail) but loses nothing local, and a failed
 * build never deletes from the database.
 */
async function syncMongo(config: Config, files: PublishedFile[], succeeded: boolean, progress: Progress): Promise<NonNullable<BuildResult['mongo']>> {
  const {syncTrees} = await import('../mongo/sync.js')
  try {
    return await syncTrees(config, files, {deleteVanished: succeeded, progress})
  } catch (error) {
    if (error instanceof UserError) return {inserted: 0, updated: 0, deleted: 0, unchanged: 0, error: error.message}
    throw error
  }
}

/** The previous build's state, if it describes the `out/` that is there now (else everything is rewritten). */
function readState(file: string, out: string): BuildState | undefined {
  const state = readStateFile(file)
  if (!state || state.out !== out) return undefined
  try {
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as {build_id?: string}
    return manifest.build_id === state.buildId ? state : undefined
  } catch {
    return undefined
  }
}

function readStateFile(file: string): BuildState | undefined {
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as BuildState
    return state.version === 2 ? state : undefined
  } catch {
    return undefined
  }
}

/** The commit checked out, so a commit that changes no content still refreshes "last updated". */
function gitHead(dir: string): string {
  if (!insideGit(dir)) return ''
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], {cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']}).trim()
  } catch {
    return ''
  }
}

function assetsIntact(contentDir: string, state: BuildState): boolean {
  return state.assets.every(([source, size, mtimeMs]) => {
    const stat = statSync(path.join(contentDir, source), {throwIfNoEntry: false})
    return stat?.size === size && stat.mtimeMs === mtimeMs
  })
}

interface FolderRule {
  folder: string
  settings: Settings
}

/** The config's folder defaults, normalized and sorted outermost first, once per build. */
function folderRules(folders: Config['folders']): FolderRule[] {
  return Object.entries(folders)
    .map(([folder, settings]) => ({folder: folder.replace(/^\.?\/+|\/+$/g, ''), settings}))
    .sort((a, b) => a.folder.length - b.folder.length)
}

/** What every compile key depends on besides the file: the tool's code and the config that shapes compiles. */
function fingerprintOf(config: Config): string {
  return hash(JSON.stringify([toolKey(), cacheFormat, config.site.base, config.folders]))
}

/**
 * Compile one source now, in this thread, into the build cache (the dev
 * server's fast path: the page updates before the full rebuild runs). The
 * next build finds the compile by its key and does not repeat it.
 */
export async function compileSource(config: Config, memory: BuildMemory, source: string): Promise<{key: string; meta: CompiledMeta} | undefined> {
  const cache = (memory.cache ??= new BuildCache(path.join(config.root, '.tagpress'), false))
  let value: string
  try {
    value = readFileSync(path.join(config.content, source), 'utf8')
  } catch {
    return undefined
  }
  const defaults = folderDefaults(folderRules(config.folders), source)
  const key = BuildCache.key(fingerprintOf(config), source, hash(value, 64), defaults)
  const known = cache.meta(key)
  if (known && assetsUnchanged(config.content, known) && cache.stored(key)) return {key, meta: known}
  const {runCompileTask} = await import('./compile-task.js')
  const previous = cache.index.files[source]?.key
  const meta = await runCompileTask(
    {source, key, value, defaults, ...(previous && previous !== key ? {previous} : {})},
    {contentDir: config.content, base: config.site.base, stateDir: path.join(config.root, '.tagpress')},
    cache
  )
  cache.setMeta(key, meta)
  return {key, meta}
}

/** Folder defaults for a file: every folder rule containing it, outermost first. */
function folderDefaults(rules: FolderRule[], source: string): Settings {
  const settings: Settings = {}
  for (const rule of rules) if (rule.folder === '' || source.startsWith(rule.folder + '/')) Object.assign(settings, rule.settings)
  return settings
}

function assetsUnchanged(contentDir: string, meta: CompiledMeta): boolean {
  for (const asset of meta.assets) {
    const stat = statSync(path.join(contentDir, asset.source), {throwIfNoEntry: false})
    if (!stat || stat.size !== asset.size || stat.mtimeMs !== asset.mtimeMs) return false
  }
  return true
}

/** A compile's key for the same text with the assets it referenced as they are now (size and time). */
function withAssets(key: string, contentDir: string, meta: CompiledMeta): string {
  const stamps = meta.assets.map((asset) => {
    const stat = statSync(path.join(contentDir, asset.source), {throwIfNoEntry: false})
    return asset.source + ' ' + (stat ? stat.size + ' ' + stat.mtimeMs : 'missing')
  })
  return hash([key, 'assets', ...stamps].join('\n'), key.length)
}

function hash(value: string, length = 32): string {
  return createHash('sha256').update(value).digest('hex').slice(0, length)
}
