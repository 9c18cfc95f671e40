/**
 * Loaded only by `tagpress dev`: applies the server's page updates in place
 * (content, outline, sidebar, title) and keeps the reader's scroll position;
 * other pages refresh when they are next shown; the error overlay goes away
 * once the file is fixed.
 */
import {initCode} from './code'
import {initToc} from './toc'

/** The navigation version a page shows (set by `tagpress dev` when it serves the page). */
const navMeta = 'meta[name="tagpress-dev-nav"]'

let stale = false
/** Counts the pushed updates applied: a refresh that was under way while one arrived may carry older HTML. */
let applied = 0

if (import.meta.hot) {
  // The whole page, or (when the sidebar did not change) its main column, outline and title.
  import.meta.hot.on('tagpress:page', (data: {path: string; html?: string; update?: PageUpdate}) => {
    if (!samePage(data.path)) return
    applied++
    if (data.update) patch(data.update)
    else if (data.html !== undefined) swap(data.html)
  })
  import.meta.hot.on('tagpress:invalidate', () => {
    if (document.visibilityState === 'visible') void refresh()
    else stale = true
  })
  import.meta.hot.on('tagpress:errors-cleared', () => {
    document.querySelector('vite-error-overlay')?.remove()
  })
  document.addEventListener('visibilitychange', () => {
    if (stale && document.visibilityState === 'visible') {
      stale = false
      void refresh()
    }
  })
  // A navigation change applied while this page loaded (before its messages could reach it) is missed: ask now that
  // the handlers listen, and again whenever the connection (re)opens.
  void checkNavigation()
  import.meta.hot.on('vite:ws:connect', () => void checkNavigation())
}

/** Refresh if the server's navigation is newer than the one this page shows. */
async function checkNavigation(): Promise<void> {
  const meta = document.querySelector<HTMLMetaElement>(navMeta)
  const url = meta?.dataset.check
  if (!meta || !url) return
  try {
    const response = await fetch(url, {cache: 'no-store'})
    if (response.ok && (await response.text()) !== meta.content) await refresh()
  } catch {
    // The server is gone or restarting: Vite's client reconnects, and asks again then.
  }
}

function normalize(pathname: string): string {
  let value = decodeURIComponent(pathname)
  if (value.endsWith('/')) value += 'index'
  return value.replace(/\.html$/, '')
}

function samePage(path: string): boolean {
  return normalize(path) === normalize(location.pathname)
}

async function refresh(): Promise<void> {
  // If an update was pushed while this fetch was under way, its answer may predate the update: fetch again.
  for (;;) {
    const seen = applied
    const response = await fetch(location.href, {cache: 'no-store'})
    if (!response.ok) return location.reload()
    const html = await response.text()
    if (seen !== applied) continue
    swap(html)
    return
  }
}

/** The server's `PageUpdate` (src/node/site/layout.ts). */
interface PageUpdate {
  main: string
  aside: string
  title: string
}

/** Replace a whole page's changing parts, in place; everything else (scroll, open dialogs, focus) stays. */
function swap(html: string): void {
  const next = new DOMParser().parseFromString(html, 'text/html')
  const x = scrollX
  const y = scrollY
  replaceInner('#tp-main', next)
  replaceInner('nav.tp-nav', next)
  replaceAside(next.querySelector('.tp-aside'))
  const layout = document.querySelector('.tp-layout')
  const nextLayout = next.querySelector('.tp-layout')
  if (layout && nextLayout) layout.className = nextLayout.className
  const version = document.querySelector<HTMLMetaElement>(navMeta)
  const nextVersion = next.querySelector<HTMLMetaElement>(navMeta)
  if (version && nextVersion) version.content = nextVersion.content
  document.title = next.title
  updated(x, y)
}

/** The same for an update without the sidebar: only the fragments that changed are parsed. */
function patch(update: PageUpdate): void {
  const x = scrollX
  const y = scrollY
  const main = document.querySelector('#tp-main')
  if (main) main.innerHTML = update.main
  const template = document.createElement('template')
  template.innerHTML = update.aside
  replaceAside(template.content.querySelector('.tp-aside'))
  document.querySelector('.tp-layout')?.classList.toggle('tp-has-toc', update.aside !== '')
  document.title = update.title
  updated(x, y)
}

function replaceAside(nextAside: Element | null): void {
  const aside = document.querySelector('.tp-aside')
  if (aside && nextAside) aside.replaceWith(nextAside)
  else if (aside) aside.remove()
  else if (nextAside) document.querySelector('#tp-main')?.after(nextAside)
}

/** After new content: code blocks and the outline's scroll spy set up again, the reader's scroll position kept. */
function updated(x: number, y: number): void {
  initCode()
  initToc()
  scrollTo(x, y)
  document.dispatchEvent(new CustomEvent('tagpress:updated'))
}

function replaceInner(selector: string, next: Document): void {
  const current = document.querySelector(selector)
  const incoming = next.querySelector(selector)
  if (current && incoming && current.innerHTML !== incoming.innerHTML) current.innerHTML = incoming.innerHTML
}
