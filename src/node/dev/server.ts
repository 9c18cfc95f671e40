import {createReadStream, existsSync, readFileSync, statSync} from 'node:fs'
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import type {ViteDevServer} from 'vite'
import {Worker} from 'node:worker_threads'
import {compileSource, type BuildMemory, type BuildResult} from '../build/build.js'
import {BuildCache, type CompiledMeta} from '../build/cache.js'
import {UserError} from '../errors.js'
import type {Config} from '../config/types.js'
import {packageRoot} from '../package-root.js'
import {searchIndexName} from '../outputs/site.js'
import {apiHandlers} from '../server/serve.js'
import {contentTypes} from '../server/static.js'
import {DevSite, excerpt} from './dev-site.js'
import {idleCollector} from './idle-gc.js'
import {warmUp} from './warm-up.js'
import {watchPaths, writeFinished, type ChangeBatch} from './watcher.js'

export interface DevServerOptions {
  port?: number
  host?: string
  /** Terminal output: a status line on a TTY, errors only when piped. */
  log?: DevLog
}

export interface DevLog {
  status: (line: string) => void
  error: (text: string) => void
  info: (text: string) => void
}

export interface DevServer {
  url: string
  /** Resolves when every change seen so far is compiled, pushed, and written to `out/`. */
  settled: () => Promise<void>
  close: () => Promise<void>
}

/**
 * `tagpress dev`: Vite serves the theme (with its own HMR), pages are
 * rendered on demand from the build cache, and a watcher recompiles what
 * changed: the page updates in place at once, then a full incremental build
 * (the same `build` as the CLI) refreshes `out/` in the background, so the
 * datasets on disk are always what `build` would write.
 */
export async function startDevServer(config: Config, options: DevServerOptions = {}): Promise<DevServer> {
  const log = options.log ?? silentLog
  const base = config.site.base
  const builder = new BackgroundBuilder(config)
  /** Undefined until the first build is done. */
  let lastResult: BuildResult | undefined
  // The main thread's own view of the cache (what the last run saved, then what the first build saves); it compiles
  // edits and pages asked for into it, never saves it.
  const memory: BuildMemory = {cache: new BuildCache(path.join(config.root, '.tagpress'), false)}
  const cache = memory.cache as BuildCache
  const site = new DevSite(config, cache, {css: [], js: [base + 'main.ts', base + 'dev-client.ts']})
  site.loadAll()
  /**
   * Sources this thread compiled itself (pages asked for, edits): newer than what the first build may have read.
   * Until the first build is done, a page not in the cache is compiled when asked for, so even a large site
   * opens at once; the navigation fills in when the build is done.
   */
  const compiledHere = new Set<string>()
  /** Counts navigation changes: a page that loaded while one was applied missed its message, and asks. */
  let navVersion = 0
  /** Compiles this thread made since the last background build: handed to it, so it reuses them instead of compiling again. */
  let compiledForBuild: Array<[string, CompiledMeta]> = []

  const apis = await apiHandlers(config, {drafts: true})
  const {createServer} = await import('vite')
  let vite: ViteDevServer
  vite = await createServer({
    root: path.join(packageRoot, 'site'),
    base,
    configFile: false,
    appType: 'custom',
    clearScreen: false,
    logLevel: 'warn',
    publicDir: false,
    server: {port: options.port ?? config.server.port ?? 5173, host: options.host ?? config.server.host, strictPort: false},
    plugins: [
      {
        name: 'tagpress-pages',
        configureServer(server) {
          server.middlewares.use((request, response, next) => {
            handleApi(request, response).then((handled) => (handled ? true : handle(request, response))).then((handled) => {
              if (!handled) next()
            }, next)
          })
        }
      }
    ]
  })

  /** The ask engine and the export stream, as `tagpress serve` has them. */
  async function handleApi(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    for (const api of apis.handlers) if (await api(request, response)) return true
    return false
  }

  /** Pages, content assets and the search index; everything else is Vite's (theme code, HMR). */
  async function handle(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    const url = new URL(request.url ?? '/', 'http://localhost')
    if (request.method !== 'GET' && request.method !== 'HEAD') return false
    if (!url.pathname.startsWith(base)) return false
    const relative = decodeURIComponent(url.pathname.slice(base.length))
    if (relative === navVersionPath) {
      response.writeHead(200, {'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store'})
      response.end(String(navVersion))
      return true
    }
    if (relative === searchIndexName) return sendFile(response, path.join(config.out, 'site', searchIndexName), 'application/x-ndjson; charset=utf-8')
    if (relative.startsWith('assets/')) {
      const source = site.assetSource(relative)
      return source ? sendFile(response, path.join(config.content, source)) : false
    }
    const fileId = pageId(relative)
    if (fileId === undefined) return false
    // Compiled here: a page the first build has not reached yet, or one whose compile was collected.
    if (!site.readable(fileId) && (site.has(fileId) || lastResult === undefined)) await compileAsked(fileId)
    const html = site.render(fileId)
    // The navigation this page shows, so that its client can tell whether it missed a change (see dev-client.ts).
    const versioned = (html ?? site.renderNotFound()).replace('</head>', '<meta name="tagpress-dev-nav" content="' + navVersion + '" data-check="' + base + navVersionPath + '">\n</head>')
    const page = await vite.transformIndexHtml(url.pathname, versioned)
    response.writeHead(html ? 200 : 404, {'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store'})
    response.end(page)
    return true
  }

  /** Compile a page asked for before the first build has reached it (`guide/intro` → `guide/intro.md`). */
  async function compileAsked(fileId: string): Promise<void> {
    const source = fileId + '.md'
    if (!existsSync(path.join(config.content, source))) return
    const compiled = await compileSource(config, memory, source)
    if (!compiled) return
    compiledHere.add(source)
    compiledForBuild.push([compiled.key, compiled.meta])
    site.set(source, compiled.key, compiled.meta, cache.index.files[source]?.good)
  }

  /**
   * The first build is done: show every page it compiled, except those this thread compiled since (newer);
   * open pages refresh only when something they show changed.
   */
  function adoptFirstBuild(): void {
    cache.refresh()
    const known = cache.index.files
    let changed = false
    for (const [source, entry] of Object.entries(known)) {
      if (compiledHere.has(source) || !existsSync(path.join(config.content, source))) continue
      const meta = cache.meta(entry.key)
      if (!meta || site.keyOf(source) === entry.key) continue
      site.set(source, entry.key, meta, entry.good)
      changed = true
    }
    // Pages of files deleted while the server was down.
    for (const source of site.sources()) if (!known[source] && !compiledHere.has(source)) changed = site.remove(source) || changed
    if (changed) invalidate()
    debug?.('first build adopted, ' + (changed ? 'pages invalidated' : 'nothing to show'))
  }

  /** `''` → `index`, `guide/` → `guide/index`, `guide/intro(.html)` → `guide/intro`; theme files are not pages. */
  function pageId(relative: string): string | undefined {
    if (relative === '' || relative.endsWith('/')) return relative + 'index'
    if (relative.endsWith('.html')) return relative.slice(0, -'.html'.length)
    if (path.posix.extname(relative) === '' && !relative.startsWith('@')) return relative
    return undefined
  }

  await vite.listen()
  const address = vite.httpServer?.address() as AddressInfo
  const shownHost = address.address.includes(':') ? '[' + address.address + ']' : address.address
  const url = 'http://' + shownHost + ':' + address.port + base

  // Changes: compile at once and push the page; then rebuild out/ in the background.
  let work = Promise.resolve()
  /** Set at the first change: the JIT warm-up stops. */
  let edited = false
  let pendingBuild: Set<string> | undefined
  let building: Promise<void> | undefined
  /** Set on close: builds stop once the site and datasets are written (the next build writes the rest). */
  let closing = false
  const settleWaiters: Array<() => void> = []

  /** The watcher holds later changes back until this batch is applied, then hands them over as one. */
  const onBatch = (batch: ChangeBatch): Promise<void> => {
    edited = true
    // A build running now is out of date: it may stop once its datasets are written while this edit compiles.
    if (building) builder.hurry()
    work = work.then(() => applyBatch(batch)).catch((error: Error) => log.error('tagpress dev: ' + (error.stack ?? error.message))).finally(worked)
    return work
  }
  const worked = idleCollector()

  async function applyBatch(batch: ChangeBatch): Promise<void> {
    const started = performance.now()
    const changedSources = new Set<string>()
    let navChanged = false
    let restart = false
    for (const [file, kind] of batch) {
      if (config.file && file === config.file) restart = true
      const relative = path.relative(config.content, file)
      if (relative.startsWith('..') || path.isAbsolute(relative)) continue
      const source = relative.split(path.sep).join('/')
      if (kind === 'addDir' || kind === 'unlinkDir' || !source.toLowerCase().endsWith('.md')) {
        // A folder moved or an asset changed: rescan everything in the background build.
        changedSources.add(source || '.')
        if (kind === 'unlinkDir') navChanged = removeUnder(source) || navChanged
        continue
      }
      changedSources.add(source)
      if (kind === 'unlink') {
        compiledHere.add(source)
        navChanged = site.remove(source) || navChanged
        continue
      }
      await writeFinished(file)
      const compileStarted = performance.now()
      const compiled = await compileSource(config, memory, source)
      compiledHere.add(source)
      if (compiled) compiledForBuild.push([compiled.key, compiled.meta])
      debug?.(`event ${(Date.now() - statSync(file).mtimeMs).toFixed(0)} ms after the save, compile ${(performance.now() - compileStarted).toFixed(0)} ms, key ${compiled?.key}, messages ${JSON.stringify(compiled?.meta.messages.map((m) => m.reason))}`)
      if (!compiled) {
        navChanged = site.remove(source) || navChanged
        continue
      }
      const navChangedHere = site.set(source, compiled.key, compiled.meta, memory.cache?.index.files[source]?.good)
      navChanged ||= navChangedHere
      const fileId = compiled.meta.fileId
      // The whole page when its sidebar changed too; else only what the edit can change (the sidebar is most of a big site's page).
      const update = navChangedHere ? site.render(fileId) : site.renderUpdate(fileId)
      if (update !== undefined) send('tagpress:page', {path: base + fileId + '.html', ...(typeof update === 'string' ? {html: update} : {update})})
      debug?.(`${source} ${update ? 'pushed (' + JSON.stringify(update).length + ' bytes)' : 'NOT pushed: no page'} at ${Date.now()}`)
      reportErrors(source)
    }
    if (restart) {
      log.info('tagpress dev: the config changed; restart `tagpress dev` to apply it')
    }
    if (navChanged) invalidate()
    if (navChanged) debug?.('navigation changed, pages invalidated')
    if (changedSources.size > 0) {
      log.status(statusLine(lastResult, 'updated ' + changedSources.size + ' file' + (changedSources.size === 1 ? '' : 's') + ' in ' + Math.round(performance.now() - started) + ' ms'))
      scheduleBuild(changedSources)
    }
  }

  function removeUnder(folder: string): boolean {
    let changed = false
    for (const source of site.sources()) if (source.startsWith(folder + '/')) changed = site.remove(source) || changed
    return changed
  }

  function reportErrors(source: string): void {
    const errors = site.messages(source).filter((message) => message.fatal)
    const file = path.join(config.content, source)
    if (errors.length === 0) {
      send('tagpress:errors-cleared', {source})
      return
    }
    const first = errors[0]!
    const shown = path.relative(process.cwd(), file)
    const text = errors.map((message) => `${shown}:${message.line}:${message.column}: ${message.reason} [${message.code}]`).join('\n')
    log.error(text)
    vite.ws.send({
      type: 'error',
      err: {message: text, stack: '', id: file, frame: excerpt(file, first.line, first.column), plugin: 'tagpress', loc: {file, line: first.line, column: first.column}}
    })
  }

  function scheduleBuild(changed: Set<string> | undefined): void {
    if (changed) {
      pendingBuild ??= new Set()
      for (const source of changed) pendingBuild.add(source)
    }
    if (building) {
      if (changed) builder.hurry()
      return
    }
    building = (async () => {
      if (lastResult === undefined) {
        const started = performance.now()
        lastResult = await builder.run(undefined, takeCompiled())
        adoptFirstBuild()
        debug?.('first build ' + buildTimings(lastResult, started))
        log.status(statusLine(lastResult, 'out/ written in ' + Math.round(performance.now() - started) + ' ms'))
      }
      for (;;) {
        // Edits still compiling join this round (the build they hurried has just stopped for them).
        await work
        if (!pendingBuild) break
        const next: Set<string> = pendingBuild
        pendingBuild = undefined
        const started = performance.now()
        const full = [...next].some((source) => source === '.' || !source.toLowerCase().endsWith('.md'))
        lastResult = await builder.run(full ? undefined : [...next], takeCompiled(), closing)
        const what = lastResult.preempted ? 'datasets written in ' : 'out/ written in '
        debug?.('build ' + buildTimings(lastResult, started))
        log.status(statusLine(lastResult, what + Math.round(performance.now() - started) + ' ms'))
      }
      building = undefined
      for (const resolve of settleWaiters.splice(0)) resolve()
    })().catch((error: Error) => {
      building = undefined
      // The next build looks at everything again (this one's changes are not lost), and nobody waits forever.
      pendingBuild = new Set(['.'])
      for (const resolve of settleWaiters.splice(0)) resolve()
      log.error('tagpress dev: build failed: ' + error.message)
    })
  }

  function takeCompiled(): Array<[string, CompiledMeta]> {
    const taken = compiledForBuild
    compiledForBuild = []
    return taken
  }

  function send(event: string, data: unknown): void {
    vite.ws.send({type: 'custom', event, data})
  }

  /** Every page's navigation is out of date: open pages refresh (pages loading now see the new version). */
  function invalidate(): void {
    navVersion++
    send('tagpress:invalidate', {})
  }

  const watched = [config.content, ...(config.file ? [config.file] : [])]
  const watcher = watchPaths(watched, onBatch)
  // The first build (everything, incrementally from the cache) runs while the server already answers.
  scheduleBuild(undefined)
  await watcher.ready
  log.status(statusLine(lastResult, 'ready at ' + url))
  // A fresh thread compiles slowly until the JIT has seen the pipeline run: warm it while the author reads
  // (outside the work queue, so a real edit never waits for it; it stops at the first edit). Not before the first
  // page has loaded (its client connected) or a few seconds passed: its first compile holds the thread for
  // ~0.5 s (the highlighter's grammars), which the first page would wait for.
  void pageLoaded(vite, 5000)
    .then(() => warmUp(config, Object.keys(cache.index.files), () => edited))
    .catch(() => {})

  return {
    url,
    settled: async () => {
      await new Promise((resolve) => setTimeout(resolve, 60))
      await work
      if (building) await new Promise<void>((resolve) => settleWaiters.push(resolve))
    },
    close: async () => {
      // Ctrl-C should not wait for decks and corpora: builds stop once the site and datasets are written (the
      // last edits' too), and the next build or start writes the rest: a stopped build's state never passes for current.
      closing = true
      builder.hurry()
      await watcher.close()
      await vite.close()
      await building
      await builder.close()
      await apis.close()
    }
  }
}

/** Where a dev page asks for the navigation version (not a page name: it starts with `@`). */
const navVersionPath = '@tagpress/nav-version'

/** Resolves when a browser's HMR client first connects (a page has loaded), or after `timeoutMs`. */
function pageLoaded(vite: ViteDevServer, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, timeoutMs)
    timer.unref()
    vite.ws.on('connection', done)
    function done(): void {
      clearTimeout(timer)
      vite.ws.off('connection', done)
      resolve()
    }
  })
}

/** `TAGPRESS_DEBUG_TIMING=1`: what the server saw, compiled, pushed and built, and when (stderr). */
const debug = process.env.TAGPRESS_DEBUG_TIMING ? (text: string): void => void process.stderr.write('timing: ' + text + '\n') : undefined

function buildTimings(result: BuildResult, started: number): string {
  return JSON.stringify({wall: Math.round(performance.now() - started), ...result.stats.timings})
}

function statusLine(result: BuildResult | undefined, what: string): string {
  if (!result) return 'building out/ · ' + what
  const {stats} = result
  return `${stats.pages} pages · ${stats.records.blocks} blocks · ${stats.records.chapters} chapters · ${stats.records.qa} Q/A · ${what}${stats.errors ? ` · ${stats.errors} file${stats.errors === 1 ? '' : 's'} with errors` : ''}`
}

function sendFile(response: ServerResponse, file: string, type?: string): boolean {
  if (!existsSync(file)) return false
  const stat = statSync(file)
  response.writeHead(200, {'content-length': stat.size, 'cache-control': 'no-store', 'content-type': type ?? contentTypes[path.extname(file).toLowerCase()] ?? 'application/octet-stream'})
  createReadStream(file).pipe(response)
  return true
}

const silentLog: DevLog = {status: () => {}, error: () => {}, info: () => {}}

/** Runs builds in a worker thread, one at a time. */
class BackgroundBuilder {
  private readonly worker: Worker
  /** Set once the worker has died (out of memory, killed): every build then fails at once instead of waiting. */
  private exited = false
  /** Raised while a build runs when a newer edit waits: the build stops after the site and datasets. */
  private readonly newer = new Int32Array(new SharedArrayBuffer(4))
  /** When a newer edit first waited for the running build (for `debug`). */
  private hurriedAt = 0

  constructor(config: Config) {
    this.worker = new Worker(new URL('./build-worker.js', import.meta.url), {workerData: {config, newer: this.newer}})
    this.worker.once('exit', () => {
      this.exited = true
      // A build waiting for an answer gets none: fail it (only if one waits; an unheard 'error' would throw).
      if (this.worker.listenerCount('error') > 0) this.worker.emit('error', new Error('the build worker stopped'))
    })
  }

  /** A build of everything (`changed` undefined) or of the changed sources, reusing the given compiles; `hurried` stops it after the datasets. */
  run(changed: string[] | undefined, compiled: Array<[string, CompiledMeta]>, hurried = false): Promise<BuildResult> {
    if (this.exited) return Promise.reject(new Error('the build worker stopped'))
    return new Promise((resolve, reject) => {
      const onMessage = (message: {ok: true; result: BuildResult} | {ok: false; error: string}): void => {
        this.worker.off('error', onError)
        if (this.hurriedAt) debug?.('the build ended ' + Math.round(performance.now() - this.hurriedAt) + ' ms after a newer edit')
        this.hurriedAt = 0
        if (message.ok) resolve(message.result)
        else reject(new UserError(message.error))
      }
      const onError = (error: Error): void => {
        this.worker.off('message', onMessage)
        reject(error)
      }
      this.worker.once('message', onMessage)
      this.worker.once('error', onError)
      Atomics.store(this.newer, 0, hurried ? 1 : 0)
      this.worker.postMessage(changed ? {changed, compiled} : {compiled})
    })
  }

  /** A newer edit waits: let the running build stop once the site and the datasets are current. */
  hurry(): void {
    this.hurriedAt ||= performance.now()
    Atomics.store(this.newer, 0, 1)
  }

  async close(): Promise<void> {
    await this.worker.terminate()
  }
}
