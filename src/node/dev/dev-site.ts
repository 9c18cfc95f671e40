import {readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import type {BuildCache, CompiledDetail, CompiledMeta} from '../build/cache.js'
import type {FileMessage} from '../compile/types.js'
import type {Config} from '../config/types.js'
import {emptyModel, pageModel, type SitePage} from '../outputs/site.js'
import {renderNotFound, renderPage, renderPageUpdate, type PageUpdate} from '../site/layout.js'
import {SiteNav} from '../site/nav.js'
import type {PageModel} from '../site/page-model.js'

/** A page the dev server shows: drafts included; a file with errors shows its last good compile. */
interface DevPage extends SitePage {
  /** The latest compile's messages (errors shown in the overlay). */
  messages: FileMessage[]
}

/**
 * The dev server's view of the site, in memory: every source with the
 * compile it shows, the navigation over them, and page rendering on demand
 * from the build cache (the same layout and model as `build`).
 */
export class DevSite {
  private pages = new Map<string, DevPage>()
  private bySource = new Map<string, string>()
  private navCache: SiteNav | undefined
  private assetSources = new Map<string, string>()

  constructor(private readonly config: Config, private readonly cache: BuildCache, private readonly assets: PageModel['assets']) {}

  /** Load every source the cache index knows. */
  loadAll(): void {
    for (const [source, entry] of Object.entries(this.cache.index.files)) {
      const latest = this.cache.meta(entry.key)
      if (latest) this.set(source, entry.key, latest, entry.good)
    }
  }

  /**
   * Show a new compile of a source; returns whether the navigation changed
   * (a title, an order, a page added), so other pages need a refresh too.
   */
  set(source: string, key: string, meta: CompiledMeta, good?: string): boolean {
    const failed = meta.messages.some((message) => message.fatal)
    const old = this.pages.get(meta.fileId)
    // A file with errors keeps showing its last good compile: the one shown now, else the cache's record of it.
    const shownKey = failed ? [old?.key, good].find((candidate) => candidate !== undefined && this.cache.stored(candidate)) : key
    const shownMeta = shownKey ? (shownKey === key ? meta : this.cache.meta(shownKey)) : undefined
    if (!shownKey || !shownMeta) {
      // Never compiled cleanly: nothing to show yet, but keep its errors.
      this.bySource.set(source, meta.fileId)
      if (old) old.messages = meta.messages
      return false
    }
    const page: DevPage = {source, key: shownKey, meta: shownMeta, time: mtimeSeconds(path.join(this.config.content, source)), messages: meta.messages}
    this.pages.set(meta.fileId, page)
    this.bySource.set(source, meta.fileId)
    for (const asset of shownMeta.assets) this.assetSources.set(asset.output, asset.source)
    const navChanged = !old || old.meta.title !== shownMeta.title || old.meta.order !== shownMeta.order
    if (navChanged) this.navCache = undefined
    return navChanged
  }

  remove(source: string): boolean {
    const fileId = this.bySource.get(source)
    if (!fileId) return false
    this.bySource.delete(source)
    this.pages.delete(fileId)
    this.navCache = undefined
    return true
  }

  /** The compile a source's page shows. */
  keyOf(source: string): string | undefined {
    const fileId = this.bySource.get(source)
    return fileId === undefined ? undefined : this.pages.get(fileId)?.key
  }

  /** Every source shown (pages, and files that never compiled cleanly). */
  sources(): string[] {
    return [...this.bySource.keys()]
  }

  fileIdOf(source: string): string | undefined {
    return this.bySource.get(source)
  }

  messages(source: string): FileMessage[] {
    const fileId = this.bySource.get(source)
    return (fileId && this.pages.get(fileId)?.messages) || []
  }

  /** The content file behind a content-hashed asset path (`assets/x.1a2b3c4d.png`). */
  assetSource(output: string): string | undefined {
    return this.assetSources.get(output)
  }

  has(fileId: string): boolean {
    return this.pages.has(fileId)
  }

  /**
   * Whether a page's compile is still in the cache. The background build deletes compiles no source points at
   * any more, and a page known from the index at start-up (say, an edit the last session never built) may be
   * one of them: such a page is compiled again when asked for.
   */
  readable(fileId: string): boolean {
    const page = this.pages.get(fileId)
    return page !== undefined && this.cache.stored(page.key)
  }

  get stats(): {pages: number} {
    return {pages: this.pages.size}
  }

  /** A page's HTML, or undefined when there is no such page. */
  render(fileId: string): string | undefined {
    const model = this.model(fileId)
    return model && renderPage(model)
  }

  private model(fileId: string): PageModel | undefined {
    const page = this.pages.get(fileId)
    if (!page) return undefined
    const parts = this.cache.readParts(page.key, ['html', 'detail'])
    return pageModel(this.config, page, this.nav(), parts.html, JSON.parse(parts.detail) as CompiledDetail, this.assets)
  }

  /** What an open page replaces when its source changed but the navigation did not (see `renderPageUpdate`). */
  renderUpdate(fileId: string): PageUpdate | undefined {
    const model = this.model(fileId)
    return model && renderPageUpdate(model)
  }

  renderNotFound(): string {
    return renderNotFound({...emptyModel(this.config, this.assets), kind: '404', title: 'Page not found', path: '404.html', nav: this.nav().sidebar('')})
  }

  private nav(): SiteNav {
    this.navCache ??= new SiteNav(
      [...this.pages.values()].sort((a, b) => (a.source < b.source ? -1 : 1)).map((page) => ({fileId: page.meta.fileId, title: page.meta.title, order: page.meta.order})),
      this.config.site.base
    )
    return this.navCache
  }
}

function mtimeSeconds(file: string): number {
  const stat = statSync(file, {throwIfNoEntry: false})
  return stat ? Math.floor(stat.mtimeMs / 1000) : 0
}

/** Lines around a position, numbered, with a caret: the overlay's excerpt. */
export function excerpt(file: string, line: number, column: number): string {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return ''
  }
  const lines = text.split('\n')
  const from = Math.max(1, line - 2)
  const to = Math.min(lines.length, line + 2)
  const width = String(to).length
  const out: string[] = []
  for (let at = from; at <= to; at++) {
    out.push((at === line ? '> ' : '  ') + String(at).padStart(width) + ' | ' + (lines[at - 1] ?? ''))
    if (at === line) out.push('  ' + ' '.repeat(width) + ' | ' + ' '.repeat(Math.max(0, column - 1)) + '^')
  }
  return out.join('\n')
}
