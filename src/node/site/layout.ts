/**
 * The default theme's page layout: a `PageModel` in, a full HTML5 document out.
 *
 * Node-side and dependency-free: plain string building, one pass over the
 * model, no template engine and no work on `bodyHtml` (trusted HTML, inserted
 * as is). Every other text value is escaped here. The client half of the theme
 * lives in `site/` and relies on the classes and attributes written below
 * (`tp-*` classes, `data-search-index`, `data-tp-*` hooks).
 */

import type {NavItem, PageLink, PageModel, TocItem} from './page-model.js'

/** Escape text for HTML content and double-quoted attribute values. */
export function escapeHtml(value: string): string {
  const start = value.search(SPECIAL)
  if (start === -1) return value
  let out = ''
  let last = 0
  for (let i = start; i < value.length; i++) {
    let entity: string
    switch (value.charCodeAt(i)) {
      case 38: entity = '&amp;'; break
      case 60: entity = '&lt;'; break
      case 62: entity = '&gt;'; break
      case 34: entity = '&quot;'; break
      case 39: entity = '&#39;'; break
      default: continue
    }
    if (i > last) out += value.slice(last, i)
    out += entity
    last = i + 1
  }
  return last < value.length ? out + value.slice(last) : out
}

const SPECIAL = /[&<>"']/

/** Escape a URL for an attribute; script-bearing schemes become `#`. */
export function escapeUrl(url: string): string {
  const first = url.charCodeAt(0)
  // Fast path: the compiler's own URLs are root-relative, relative or fragments.
  if (first === 47 /* / */ || first === 35 /* # */ || first === 46 /* . */) return escapeHtml(url)
  const head = url.slice(0, 16).trimStart().toLowerCase()
  if (head.startsWith('javascript:') || head.startsWith('vbscript:') || head.startsWith('data:text/html')) return '#'
  return escapeHtml(url)
}

/**
 * Runs in `<head>` before first paint: applies the stored theme, else the
 * system preference, so dark-mode readers never see a white flash.
 * Keep in sync with `site/theme.ts` (storage key `tagpress-theme`).
 */
const THEME_SCRIPT =
  "(function(){try{var s=localStorage.getItem('tagpress-theme'),d=s?s==='dark':matchMedia('(prefers-color-scheme: dark)').matches;if(d)document.documentElement.classList.add('dark')}catch(e){}})()"

/**
 * Default favicon, inline so no page requests a missing `/favicon.ico`: a
 * "Q" on the accent colour.
 */
const FAVICON =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='8' fill='%233451c7'/%3E%3Ccircle cx='15.5' cy='15' r='7' fill='none' stroke='%23fff' stroke-width='3'/%3E%3Cpath d='M19 19l5 5' stroke='%23fff' stroke-width='3' stroke-linecap='round'/%3E%3C/svg%3E"

const ICON_MENU =
  '<svg class="tp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M4 6h16M4 12h16M4 18h16"/></svg>'
const ICON_CLOSE =
  '<svg class="tp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M6 6l12 12M18 6L6 18"/></svg>'
const ICON_SEARCH =
  '<svg class="tp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><circle cx="11" cy="11" r="7"/><path d="M20 20l-3.5-3.5"/></svg>'
const ICON_SUN =
  '<svg class="tp-icon tp-icon-sun" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><circle cx="12" cy="12" r="4"/><path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4"/></svg>'
const ICON_MOON =
  '<svg class="tp-icon tp-icon-moon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M20.5 14.5A8.5 8.5 0 0 1 9.5 3.5a8.5 8.5 0 1 0 11 11z"/></svg>'
// Ask panel (site/ask-open.ts): a speech bubble with a question mark.
const ICON_ASK =
  '<svg class="tp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M5 18.5V6.5A2.5 2.5 0 0 1 7.5 4h9A2.5 2.5 0 0 1 19 6.5v7a2.5 2.5 0 0 1-2.5 2.5H9.5L5 19.5z"/><path d="M10 8.6a2.1 2.1 0 1 1 2.6 2c-.4.1-.6.5-.6.9v.2"/><path d="M12 14h.01"/></svg>'
const ICON_EDIT =
  '<svg class="tp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M4 20h4L19 9l-4-4L4 16v4zM13.5 6.5l4 4"/></svg>'

/** Render a content page. */
export function renderPage(model: PageModel): string {
  const toc = tocRoots(model.toc)
  return renderDocument(model, renderArticle(model, toc), renderAside(toc))
}

/**
 * What `tagpress dev` replaces in an open page when its source changed and the
 * navigation did not: the main column, the outline (`''` for none) and the
 * document title (plain text). The sidebar, the largest part of a page on a
 * big site, is neither rendered nor sent.
 */
export interface PageUpdate {
  main: string
  aside: string
  title: string
}

export function renderPageUpdate(model: PageModel): PageUpdate {
  const toc = tocRoots(model.toc)
  return {main: renderArticle(model, toc), aside: renderAside(toc), title: documentTitle(model)}
}

/** Render the 404 page: the model's body when given, else a friendly message. */
export function renderNotFound(model: PageModel): string {
  let main = '<article class="tp-doc tp-not-found">'
  if (model.bodyHtml.trim() !== '') {
    main += model.bodyHtml
  } else {
    main +=
      '<p class="tp-not-found-code" aria-hidden="true">404</p>' +
      '<h1>Page not found</h1>' +
      '<p>The page you were looking for does not exist. It may have moved, or the link may be mistyped.</p>'
  }
  main +=
    '<p class="tp-not-found-actions">' +
    '<a class="tp-button tp-button-primary" href="' + escapeUrl(model.site.base) + '">Go to the home page</a> ' +
    '<button type="button" class="tp-button" data-tp-search-open>' + ICON_SEARCH + 'Search the site</button>' +
    '</p></article>'
  return renderDocument(model, main, '')
}

function renderDocument(model: PageModel, mainHtml: string, asideHtml: string): string {
  const siteTitle = escapeHtml(model.site.title)
  const base = escapeUrl(model.site.base)
  const hasToc = asideHtml !== ''

  let h = '<!doctype html>\n<html lang="' + escapeHtml(model.lang || 'en') + '" data-search-index="' +
    escapeUrl(model.searchIndexUrl) + '">\n<head>\n'
  h += renderHead(model)
  h += '</head>\n<body class="tp-kind-' + (model.kind === '404' ? '404' : 'page') + '">\n'
  h += '<a class="tp-skip" href="#tp-main">Skip to content</a>\n'

  // Top bar.
  h += '<header class="tp-header"><div class="tp-header-inner">'
  h += '<button type="button" class="tp-icon-button tp-menu-button" aria-controls="tp-sidebar" aria-expanded="false" aria-label="Open navigation" data-tp-menu>' + ICON_MENU + '</button>'
  h += '<a class="tp-brand" href="' + base + '">' + siteTitle + '</a>'
  h += '<div class="tp-header-actions">'
  h += '<button type="button" class="tp-search-button" aria-label="Search" aria-haspopup="dialog" aria-keyshortcuts="/ Control+K Meta+K" data-tp-search-open>' +
    ICON_SEARCH + '<span class="tp-search-label">Search</span><kbd class="tp-kbd" aria-hidden="true">/</kbd></button>'
  // Ask panel: the button that opens it (site/ask-open.ts); `data-page` (the file id) only on pages with a Markdown source.
  if (model.kind === 'page') h += renderAskButton(model)
  h += '<button type="button" class="tp-icon-button tp-theme-button" aria-pressed="false" aria-label="Dark theme" title="Toggle dark theme" data-tp-theme>' +
    ICON_SUN + ICON_MOON + '</button>'
  h += '</div></div></header>\n'

  h += '<div class="tp-layout' + (hasToc ? ' tp-has-toc' : '') + '">\n'

  // Sidebar (a drawer below 960px).
  h += '<div class="tp-sidebar" id="tp-sidebar" data-tp-sidebar>'
  h += '<div class="tp-sidebar-head"><a class="tp-brand" href="' + base + '">' + siteTitle + '</a>' +
    '<button type="button" class="tp-icon-button" aria-label="Close navigation" data-tp-menu-close>' + ICON_CLOSE + '</button></div>'
  h += '<nav class="tp-nav" aria-label="Site">'
  if (model.nav.length > 0) h += renderNavList(model.nav, countNavItems(model.nav, EXPAND_ALL_LIMIT) <= EXPAND_ALL_LIMIT)
  h += '</nav></div>\n'

  // Main column.
  h += '<main class="tp-main" id="tp-main" tabindex="-1">'
  h += mainHtml
  h += '</main>\n'
  h += asideHtml
  h += '<footer class="tp-footer"><p>' + siteTitle + ' · Built with tagpress</p></footer>\n'
  h += '</div>\n</body>\n</html>\n'
  return h
}

/** Ask panel: the header button; the panel reads the site base and the page's file id from it. */
function renderAskButton(model: PageModel): string {
  const page = model.records !== undefined && model.path.endsWith('.html') ? ' data-page="' + escapeHtml(model.path.slice(0, -'.html'.length)) + '"' : ''
  return '<button type="button" class="tp-icon-button tp-ask-button" aria-label="Ask this page" title="Ask this page (Ctrl+I)" aria-haspopup="dialog" aria-expanded="false" aria-keyshortcuts="Control+I Meta+I" data-tp-ask-open data-base="' +
    escapeUrl(model.site.base) + '"' + page + '>' + ICON_ASK + '</button>'
}

/** The `<title>`: "Page | Site", the site's title alone on the home page. */
function documentTitle(model: PageModel): string {
  const is404 = model.kind === '404'
  const pageTitle = is404 ? (model.title || 'Page not found') : model.title
  const isHome = !is404 && (model.path === 'index.html' || model.path === '')
  return isHome || pageTitle === '' || pageTitle === model.site.title ? model.site.title : pageTitle + ' | ' + model.site.title
}

function renderHead(model: PageModel): string {
  const is404 = model.kind === '404'
  const pageTitle = is404 ? (model.title || 'Page not found') : model.title
  const isHome = !is404 && (model.path === 'index.html' || model.path === '')
  const title = escapeHtml(documentTitle(model))
  const description = escapeHtml(model.description)

  let h = '<meta charset="utf-8">\n'
  h += '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
  h += '<title>' + title + '</title>\n'
  if (model.description !== '') h += '<meta name="description" content="' + description + '">\n'
  h += '<meta name="generator" content="tagpress">\n'
  h += '<meta name="color-scheme" content="light dark">\n'
  if (is404) h += '<meta name="robots" content="noindex">\n'
  h += '<meta property="og:title" content="' + escapeHtml(isHome ? model.site.title : (pageTitle || model.site.title)) + '">\n'
  if (model.description !== '') h += '<meta property="og:description" content="' + description + '">\n'
  h += '<meta property="og:type" content="' + (isHome ? 'website' : 'article') + '">\n'
  h += '<meta property="og:site_name" content="' + escapeHtml(model.site.title) + '">\n'
  if (model.canonical !== undefined && model.canonical !== '' && !is404) {
    const canonical = escapeUrl(model.canonical)
    h += '<meta property="og:url" content="' + canonical + '">\n'
    h += '<link rel="canonical" href="' + canonical + '">\n'
  }
  if (model.lastUpdated !== undefined && !is404) {
    h += '<meta property="article:modified_time" content="' + escapeHtml(model.lastUpdated.iso) + '">\n'
  }
  h += '<link rel="icon" href="' + FAVICON + '">\n'
  h += '<script>' + THEME_SCRIPT + '</script>\n'
  for (const css of model.assets.css) h += '<link rel="stylesheet" href="' + escapeUrl(css) + '">\n'
  for (const js of model.assets.js) h += '<script type="module" src="' + escapeUrl(js) + '"></script>\n'
  return h
}

/**
 * A sidebar with at most this many entries shows every folder expanded (a
 * small site is read best as one list); a bigger one opens only the folders
 * on the active page's path.
 */
const EXPAND_ALL_LIMIT = 40

/** Entries in the tree, counting stops a little past `limit`. */
function countNavItems(items: NavItem[], limit: number): number {
  let n = 0
  for (const item of items) {
    n++
    if (item.children !== undefined) n += countNavItems(item.children, limit - n)
    if (n > limit) break
  }
  return n
}

/** The sidebar tree: folders are `<details>` (open on the active path), pages are links. */
function renderNavList(items: NavItem[], expandAll: boolean): string {
  let h = '<ul>'
  for (const item of items) {
    const title = escapeHtml(item.title)
    const current = item.active === true ? ' aria-current="page"' : ''
    if (item.children !== undefined && item.children.length > 0) {
      const open = expandAll || item.open === true || item.active === true ? ' open' : ''
      if (item.url !== undefined && item.url !== '') {
        // A folder with its own page: the link, then a separate disclosure
        // toggle (a link inside <summary> would nest interactive controls).
        h += '<li class="tp-nav-folder tp-nav-folder-link"><a href="' + escapeUrl(item.url) + '"' + current + '>' + title + '</a>' +
          '<details' + open + '><summary><span class="tp-sr-only">' + title + '</span></summary>'
      } else {
        h += '<li class="tp-nav-folder"><details' + open + '><summary>' + title + '</summary>'
      }
      h += renderNavList(item.children, expandAll) + '</details></li>'
    } else if (item.url !== undefined && item.url !== '') {
      h += '<li><a href="' + escapeUrl(item.url) + '"' + current + '>' + title + '</a></li>'
    } else {
      h += '<li><span class="tp-nav-label">' + title + '</span></li>'
    }
  }
  return h + '</ul>'
}

/**
 * TOC entries to show: a level-1 heading (the page title) is not listed, its
 * subsections are lifted in its place.
 */
function tocRoots(toc: TocItem[]): TocItem[] {
  let hasH1 = false
  for (const item of toc) if (item.level <= 1) hasH1 = true
  if (!hasH1) return toc
  const roots: TocItem[] = []
  for (const item of toc) {
    if (item.level <= 1) for (const child of item.children) roots.push(child)
    else roots.push(item)
  }
  return roots
}

function renderTocList(items: TocItem[]): string {
  let h = '<ul>'
  for (const item of items) {
    h += '<li><a href="#' + escapeHtml(item.anchor) + '">' + escapeHtml(item.title) + '</a>'
    if (item.children.length > 0) h += renderTocList(item.children)
    h += '</li>'
  }
  return h + '</ul>'
}

function renderAside(roots: TocItem[]): string {
  if (roots.length === 0) return ''
  return '<aside class="tp-aside"><nav class="tp-toc" aria-labelledby="tp-toc-title" data-tp-toc>' +
    '<p class="tp-toc-title" id="tp-toc-title">On this page</p>' + renderTocList(roots) + '</nav></aside>\n'
}

function renderArticle(model: PageModel, roots: TocItem[]): string {
  let h = ''
  if (model.breadcrumbs.length > 0) h += renderBreadcrumbs(model.breadcrumbs, model.site.base + model.path)

  if (roots.length > 0) {
    h += '<details class="tp-toc-mobile"><summary>On this page</summary>' +
      '<nav class="tp-toc" aria-label="On this page">' + renderTocList(roots) + '</nav></details>'
  }

  h += '<article class="tp-doc">' + model.bodyHtml + '</article>'
  if (model.records) h += renderRecords(model.records)
  h += renderDocFooter(model)
  return h
}

/** "From this page": what the page gives the datasets and decks, so authors see the effect of their tags. */
function renderRecords(records: NonNullable<PageModel['records']>): string {
  let h = '<aside class="tp-from-page" aria-label="From this page" data-tp-records><h2 class="tp-from-page-title">From this page</h2>'
  if (records.excluded) {
    h += '<p>Left out of the datasets (<code>datasets: false</code>).'
  } else {
    const parts = [count(records.qa, 'Q/A pair'), count(records.blocks, 'block item'), count(records.chapters, 'chapter item')]
    h += '<p>' + parts.join(' · ')
    if (records.cards !== records.qa) h += ' · ' + count(records.cards, 'Anki card')
    h += '.'
  }
  if (records.sliceUrl) h += ' <a href="' + escapeUrl(records.sliceUrl) + '">Records (JSON)</a>'
  h += ' <a href="' + escapeUrl(records.datasetsUrl) + '">All datasets</a></p></aside>'
  return h
}

function count(value: number, noun: string): string {
  return '<strong>' + value + '</strong> ' + noun + (value === 1 ? '' : 's')
}

function renderBreadcrumbs(crumbs: PageLink[], selfUrl: string): string {
  let h = '<nav class="tp-breadcrumbs" aria-label="Breadcrumb"><ol>'
  for (const crumb of crumbs) {
    const title = escapeHtml(crumb.title)
    if (crumb.url === '') h += '<li><span>' + title + '</span></li>' // a folder without an index page
    else if (crumb.url === selfUrl) h += '<li><a href="' + escapeUrl(crumb.url) + '" aria-current="page">' + title + '</a></li>'
    else h += '<li><a href="' + escapeUrl(crumb.url) + '">' + title + '</a></li>'
  }
  return h + '</ol></nav>'
}

function renderDocFooter(model: PageModel): string {
  const {lastUpdated, editUrl, prev, next} = model
  const hasMeta = lastUpdated !== undefined || (editUrl !== undefined && editUrl !== '')
  if (!hasMeta && prev === undefined && next === undefined) return ''

  let h = '<footer class="tp-doc-footer">'
  if (hasMeta) {
    h += '<div class="tp-doc-meta">'
    if (editUrl !== undefined && editUrl !== '') {
      h += '<a class="tp-edit-link" href="' + escapeUrl(editUrl) + '">' + ICON_EDIT + 'Edit this page</a>'
    }
    if (lastUpdated !== undefined) {
      h += '<p class="tp-last-updated">Last updated <time datetime="' + escapeHtml(lastUpdated.iso) + '">' +
        escapeHtml(lastUpdated.text) + '</time></p>'
    }
    h += '</div>'
  }
  if (prev !== undefined || next !== undefined) {
    h += '<nav class="tp-pager" aria-label="Previous and next page">'
    if (prev !== undefined) {
      h += '<a class="tp-pager-link tp-pager-prev" href="' + escapeUrl(prev.url) + '" rel="prev">' +
        '<span class="tp-pager-label">Previous</span><span class="tp-pager-title">' + escapeHtml(prev.title) + '</span></a>'
    }
    if (next !== undefined) {
      h += '<a class="tp-pager-link tp-pager-next" href="' + escapeUrl(next.url) + '" rel="next">' +
        '<span class="tp-pager-label">Next</span><span class="tp-pager-title">' + escapeHtml(next.title) + '</span></a>'
    }
    h += '</nav>'
  }
  return h + '</footer>'
}
