import {createHash} from 'node:crypto'
import {copyFileSync, existsSync, mkdirSync, renameSync, rmSync} from 'node:fs'
import path from 'node:path'
import type {BuildCache, CompiledDetail, CompiledMeta} from '../build/cache.js'
import type {Progress} from '../build/progress.js'
import type {Config} from '../config/types.js'
import {writeAtomicSync} from '../fs/atomic.js'
import {WriteQueue} from '../fs/write-queue.js'
import {renderNotFound, renderPage} from '../site/layout.js'
import {SiteNav, type NavPage} from '../site/nav.js'
import type {PageModel} from '../site/page-model.js'
import type {Theme} from '../site/theme.js'
import {buildToc} from '../site/toc.js'

/** A page to publish: its compiled summary and the cache key of the compile to use. */
export interface SitePage {
  source: string
  meta: CompiledMeta
  key: string
  /** Last change, in seconds (git or file time). */
  time: number
  /** The file has errors: keep its last good page exactly as it is. */
  frozen?: boolean
}

/** What the site holds, remembered between builds so unchanged pages are not rewritten. */
export interface SiteState {
  /** Per page path: `[layout key, sha256]`. */
  pages: Record<string, [string, string]>
  /** Every other file written under the site folder (assets, theme, sitemap, 404). */
  files: string[]
}

export interface SiteResult {
  state: SiteState
  written: number
  pages: number
  sha256: string
  /** The navigation the pages were rendered with (the generated pages use it too). */
  nav: SiteNav
  assets: PageModel['assets']
  /** Stopped between pages (`stopping`): only `state` and `written` mean anything. */
  stopped?: true
}

export const searchIndexName = 'search-index.jsonl'

/** The last navigation built, and what it was built from. */
let lastNav: {key: string; nav: SiteNav} | undefined

/**
 * The navigation for these pages: the last one built while its pages, titles and order are the same. The dev
 * server's builds follow every edit, and most edits change none of them (building it takes ~70 ms at 10,000 pages).
 */
function siteNav(entries: NavPage[], base: string): SiteNav {
  let key = base
  for (const entry of entries) key += '\0' + entry.fileId + '\u0001' + entry.title + '\u0001' + (entry.order ?? '')
  if (lastNav?.key !== key) lastNav = {key, nav: new SiteNav(entries, base)}
  return lastNav.nav
}

/**
 * Write `out/site/`: one page per file (re-rendered only when its body,
 * navigation, date or theme changed), the 404 page, the sitemap, the theme's
 * assets and the content's assets under content-hashed names; remove what a
 * previous build wrote that no longer exists.
 */
export async function writeSite(
  config: Config,
  pages: readonly SitePage[],
  cache: BuildCache,
  theme: Theme,
  previous: SiteState | undefined,
  progress: Progress,
  /** A newer edit waits (the dev server): stop between pages; the state then says which pages are whose. */
  stopping?: () => boolean
): Promise<SiteResult> {
  const siteDir = path.join(config.out, 'site')
  const base = config.site.base
  const nav = siteNav([...pages.map((page) => ({fileId: page.meta.fileId, title: page.meta.title, order: page.meta.order})), ...generatedPages], base)
  const siteKey = hash(JSON.stringify([config.site, theme.key]))
  const assets = {css: theme.css.map((file) => base + file), js: theme.js.map((file) => base + file)}
  const state: SiteState = {pages: {}, files: []}
  let written = 0
  const writes = new WriteQueue()

  progress.start('rendering', pages.length)
  let done = 0
  for (const page of pages) {
    const {meta} = page
    const pagePath = meta.fileId + '.html'
    const layoutKey = hash([page.key, nav.key(meta.fileId), page.time, siteKey].join('\0'))
    const old = previous?.pages[pagePath]
    const reused = old !== undefined && (old[0] === layoutKey || page.frozen === true)
    // Asked before each page to render, and every 500 pages (an edit renders few of 10,000, but hashes them all).
    if (previous && (!reused || done % 500 === 499) && stopping?.()) {
      // The pages written so far are this build's, the rest still the previous build's (as are the other files).
      await writes.drain()
      progress.done()
      const pages = {...previous.pages, ...state.pages}
      return {state: {pages, files: [...new Set([...previous.files, ...state.files])].sort()}, written, pages: Object.keys(pages).length, sha256: '', nav, assets, stopped: true}
    }
    if (reused) {
      state.pages[pagePath] = old
    } else {
      const parts = cache.readParts(page.key, ['html', 'detail', 'blocks', 'chapters', 'qa'])
      const html = renderPage(pageModel(config, page, nav, parts.html, JSON.parse(parts.detail) as CompiledDetail, assets))
      await writes.write(path.join(siteDir, pagePath), html)
      state.pages[pagePath] = [layoutKey, hash(html)]
      written++
      if (hasRecords(page)) await writes.write(path.join(siteDir, slicePath(meta.fileId)), slice(meta.fileId, parts))
    }
    if (hasRecords(page)) state.files.push(slicePath(meta.fileId))
    progress.tick(++done)
  }
  await writes.drain()
  progress.done()

  const notFound = renderNotFound({
    ...emptyModel(config, assets),
    kind: '404',
    title: 'Page not found',
    path: '404.html',
    nav: nav.sidebar('')
  })
  writeAtomicSync(path.join(siteDir, '404.html'), notFound)
  state.files.push('404.html', searchIndexName)

  if (config.site.url) {
    writeAtomicSync(path.join(siteDir, 'sitemap.xml'), sitemap(config.site.url, pages))
    state.files.push('sitemap.xml')
  }

  for (const file of theme.files) {
    copyOnce(path.join(theme.dir, file), path.join(siteDir, file))
    state.files.push(file)
  }
  for (const page of pages) {
    for (const asset of page.meta.assets) {
      copyOnce(path.join(config.content, asset.source), path.join(siteDir, asset.output))
      state.files.push(asset.output)
    }
  }
  state.files = [...new Set(state.files)].sort()

  const summary = Object.entries(state.pages)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([file, [, sha]]) => file + ' ' + sha)
    .join('\n')
  return {state, written, pages: pages.length, sha256: hash(summary, 64), nav, assets}
}

/** The generated pages (Datasets, Train a model): in the navigation of every page. */
const generatedPages = [
  {fileId: 'downloads/index', title: 'Datasets', order: Number.POSITIVE_INFINITY},
  {fileId: 'downloads/train', title: 'Train a model', order: Number.POSITIVE_INFINITY}
]

function hasRecords(page: SitePage): boolean {
  const {counts, settings} = page.meta
  return settings.datasets !== false && counts.blocks + counts.chapters + counts.qa > 0
}

/** Where a page's own records are published: the "from this page" box links there. */
export function slicePath(fileId: string): string {
  return 'downloads/pages/' + fileId + '.json'
}

function slice(fileId: string, parts: {blocks: string; chapters: string; qa: string}): string {
  const records = (jsonl: string): string => (jsonl === '' ? '[]' : '[\n' + jsonl.trimEnd().split('\n').join(',\n') + '\n]')
  return '{"file_id":' + JSON.stringify(fileId) + ',\n"blocks":' + records(parts.blocks) + ',\n"chapters":' + records(parts.chapters) + ',\n"qa":' + records(parts.qa) + '}\n'
}

export function pageModel(
  config: Config,
  page: SitePage,
  nav: SiteNav,
  bodyHtml: string,
  detail: CompiledDetail,
  assets: PageModel['assets']
): PageModel {
  const {meta} = page
  const pagePath = meta.fileId + '.html'
  const url = nav.url(meta.fileId)
  const model: PageModel = {
    ...emptyModel(config, assets),
    title: meta.title,
    description: meta.description || config.site.description || '',
    path: pagePath,
    bodyHtml,
    toc: buildToc(detail.sections),
    nav: nav.sidebar(meta.fileId),
    breadcrumbs: nav.breadcrumbs(meta.fileId).filter((crumb) => crumb.url !== url),
    qaCount: detail.qa.length,
    records: {
      blocks: meta.counts.blocks,
      chapters: meta.counts.chapters,
      qa: meta.counts.qa,
      cards: meta.settings.anki === false ? 0 : meta.counts.qa,
      excluded: meta.settings.datasets === false,
      ...(hasRecords(page) ? {sliceUrl: config.site.base + slicePath(meta.fileId)} : {}),
      datasetsUrl: config.site.base + 'downloads/index.html'
    }
  }
  const prev = nav.prev(meta.fileId)
  const next = nav.next(meta.fileId)
  if (prev) model.prev = prev
  if (next) model.next = next
  if (config.site.url) model.canonical = config.site.url + pagePath
  if (page.time > 0) {
    const iso = new Date(page.time * 1000).toISOString()
    model.lastUpdated = {iso, text: iso.slice(0, 10)}
  }
  if (config.site.editLink) model.editUrl = config.site.editLink.replace(':path', page.source)
  return model
}

export function emptyModel(config: Config, assets: PageModel['assets']): PageModel {
  return {
    kind: 'page',
    lang: config.site.lang,
    site: {title: config.site.title, base: config.site.base, ...(config.site.url ? {url: config.site.url} : {})},
    title: '',
    description: config.site.description ?? '',
    path: '',
    bodyHtml: '',
    toc: [],
    nav: [],
    breadcrumbs: [],
    assets,
    searchIndexUrl: config.site.base + searchIndexName,
    qaCount: 0
  }
}

function sitemap(siteUrl: string, pages: readonly SitePage[]): string {
  const entries = pages.map((page) => {
    const lastmod = page.time > 0 ? '<lastmod>' + new Date(page.time * 1000).toISOString().slice(0, 10) + '</lastmod>' : ''
    return '  <url><loc>' + escapeXml(siteUrl + page.meta.fileId + '.html') + '</loc>' + lastmod + '</url>\n'
  })
  return '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + entries.join('') + '</urlset>\n'
}

function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** Content-hashed names never change content: copy only what is missing. */
function copyOnce(from: string, to: string): void {
  if (existsSync(to)) return
  mkdirSync(path.dirname(to), {recursive: true})
  const aside = to + '.' + process.pid + '.tmp'
  try {
    copyFileSync(from, aside)
    renameSync(aside, to)
  } catch (error) {
    rmSync(aside, {force: true})
    throw error
  }
}

/** Delete what a previous build wrote under the site folder that this one did not. */
export function removeStale(siteDir: string, previous: SiteState | undefined, state: SiteState): void {
  if (!previous) return
  const keep = new Set([...Object.keys(state.pages), ...state.files])
  for (const file of [...Object.keys(previous.pages), ...previous.files]) {
    if (!keep.has(file)) rmSync(path.join(siteDir, file), {force: true})
  }
}

function hash(value: string, length = 32): string {
  return createHash('sha256').update(value).digest('hex').slice(0, length)
}
