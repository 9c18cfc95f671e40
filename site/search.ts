/**
 * The search dialog. Loaded on first use (see search-open.ts); MiniSearch is
 * a further chunk, imported while the dialog is already open. The index is
 * `{"version":1,"docs":SearchEntry[]}` at the URL in `<html data-search-index>`.
 *
 * Accessibility: a modal <dialog> (focus stays inside, Escape closes, focus
 * returns to the opener); the input is a combobox driving a listbox through
 * aria-activedescendant, so arrow keys move and Enter opens a result.
 */
import type MiniSearch from 'minisearch'
import type {SearchResult} from 'minisearch'
import type {SearchEntry} from '../src/node/site/search-entry'
import {highlighter, excerpt, highlight} from './search-text'
import './styles/search.css'

interface LoadedIndex {
  mini: MiniSearch<SearchEntry>
  docs: Map<string, SearchEntry>
}

interface View {
  dialog: HTMLDialogElement
  input: HTMLInputElement
  list: HTMLElement
  status: HTMLElement
}

const MAX_RESULTS = 20
const KIND_LABELS: Record<SearchEntry['kind'], string> = {page: 'Page', section: 'Section', qa: 'Q&A'}

let view: View | undefined
let indexUrl = ''
let index: Promise<LoadedIndex> | undefined
let returnFocus: Element | null = null
let shown: SearchEntry[] = []
let active = -1
let renderToken = 0

/** Warm the cache before the first open (pointer or focus on the button). */
export function preloadSearch(_url: string): void {
  void import('./minisearch')
}

export function openSearch(url: string, opener: Element | null): void {
  indexUrl = url
  const v = (view ??= buildView())
  if (!v.dialog.open) {
    returnFocus = opener
    v.dialog.showModal()
  }
  v.input.focus()
  v.input.select()
  void ensureIndex().then(
    () => {
      if (v.input.value.trim() !== '') void render()
    },
    () => undefined,
  )
}

function buildView(): View {
  const dialog = document.createElement('dialog')
  dialog.className = 'tp-search'
  // Explicit role and modality: redundant for <dialog> opened with showModal,
  // but some assistive technology and test tools look for the attributes.
  dialog.setAttribute('role', 'dialog')
  dialog.setAttribute('aria-modal', 'true')
  dialog.setAttribute('aria-label', 'Search')
  dialog.innerHTML =
    '<div class="tp-search-field">' +
    '<svg class="tp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><circle cx="11" cy="11" r="7"/><path d="M20 20l-3.5-3.5"/></svg>' +
    '<label class="tp-sr-only" for="tp-search-input">Search this site</label>' +
    '<input class="tp-search-input" id="tp-search-input" type="search" role="combobox" aria-expanded="false" ' +
    'aria-controls="tp-search-results" aria-autocomplete="list" autocomplete="off" autocapitalize="off" ' +
    'spellcheck="false" enterkeyhint="go" placeholder="Search pages, sections and questions">' +
    '<button type="button" class="tp-search-close" aria-label="Esc: close search">Esc</button>' +
    '</div>' +
    '<div class="tp-search-results" id="tp-search-results" role="listbox" aria-label="Search results" hidden></div>' +
    '<p class="tp-search-status" role="status"></p>' +
    '<div class="tp-search-footer" aria-hidden="true"><span><kbd>↑</kbd><kbd>↓</kbd> to move</span>' +
    '<span><kbd>Enter</kbd> to open</span><span><kbd>Esc</kbd> to close</span></div>'
  document.body.append(dialog)

  const input = dialog.querySelector<HTMLInputElement>('input')
  const list = dialog.querySelector<HTMLElement>('[role="listbox"]')
  const status = dialog.querySelector<HTMLElement>('[role="status"]')
  const close = dialog.querySelector<HTMLButtonElement>('.tp-search-close')
  if (input === null || list === null || status === null || close === null) throw new Error('search dialog markup')

  input.addEventListener('input', () => void render())
  input.addEventListener('keydown', (event) => onKey(event))
  close.addEventListener('click', () => dialog.close())
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog) dialog.close() // the backdrop
  })
  dialog.addEventListener('close', () => {
    const target = returnFocus
    returnFocus = null
    if (target instanceof HTMLElement && target.isConnected && target !== document.body) target.focus()
  })
  list.addEventListener('pointermove', (event) => {
    const i = optionIndex(event.target)
    if (i !== -1 && i !== active) setActive(i, false)
  })
  list.addEventListener('click', (event) => {
    const i = optionIndex(event.target)
    if (i !== -1) go(i, event.ctrlKey || event.metaKey || event.shiftKey)
  })
  list.addEventListener('auxclick', (event) => {
    const i = optionIndex(event.target)
    if (i !== -1 && event.button === 1) go(i, true)
  })
  return {dialog, input, list, status}
}

function ensureIndex(): Promise<LoadedIndex> {
  if (index === undefined) {
    const loading = loadIndex(indexUrl)
    index = loading
    loading.catch(() => {
      if (index === loading) index = undefined // try again next time
    })
  }
  return index
}

async function loadIndex(url: string): Promise<LoadedIndex> {
  const [{default: MiniSearchClass}, response] = await Promise.all([import('./minisearch'), fetch(url)])
  if (!response.ok) throw new Error(`search index: HTTP ${response.status}`)
  const entries = parseIndex(await response.text())
  const mini = new MiniSearchClass<SearchEntry>({
    fields: ['title', 'path', 'text'],
    storeFields: [],
    searchOptions: {boost: {title: 3}, prefix: true, fuzzy: 0.2},
  })
  await mini.addAllAsync(entries, {chunkSize: 500})
  const docs = new Map<string, SearchEntry>()
  for (const entry of entries) docs.set(entry.id, entry)
  return {mini, docs}
}

/**
 * `{"version":1,"docs":[…]}` (search-entry.ts), or the same entries as JSON
 * Lines, one per line, which is what a build may stream out instead.
 */
function parseIndex(text: string): SearchEntry[] {
  let whole: unknown
  try {
    whole = JSON.parse(text)
  } catch {
    const entries: SearchEntry[] = []
    for (const line of text.split('\n')) if (line.trim() !== '') entries.push(JSON.parse(line) as SearchEntry)
    return entries
  }
  if (Array.isArray(whole)) return whole as SearchEntry[]
  const data = whole as {version?: unknown; docs?: unknown; id?: unknown}
  if (Array.isArray(data.docs)) {
    if (data.version !== undefined && data.version !== 1) throw new Error('search index: unsupported version')
    return data.docs as SearchEntry[]
  }
  if (typeof data.id === 'string') return [whole as SearchEntry] // JSON Lines with one entry
  throw new Error('search index: unsupported format')
}

async function render(): Promise<void> {
  const v = view
  if (v === undefined) return
  const token = ++renderToken
  const query = v.input.value.trim()
  if (query === '') {
    showResults(v, [], null)
    v.status.textContent = ''
    return
  }
  let loaded: LoadedIndex
  try {
    const pending = ensureIndex()
    if (!(await isSettled(pending))) v.status.textContent = 'Loading the search index…'
    loaded = await pending
  } catch (error) {
    console.error('tagpress:', error)
    if (token === renderToken) {
      showResults(v, [], null)
      v.status.textContent = 'The search index could not be loaded. Check your connection and try again.'
    }
    return
  }
  if (token !== renderToken) return

  // All words must match; fall back to any word rather than show nothing.
  let hits: SearchResult[] = loaded.mini.search(query, {combineWith: 'AND'})
  if (hits.length === 0) hits = loaded.mini.search(query)
  const entries: {entry: SearchEntry; hit: SearchResult}[] = []
  for (const hit of hits) {
    const entry = loaded.docs.get(String(hit.id))
    if (entry !== undefined) entries.push({entry, hit})
    if (entries.length === MAX_RESULTS) break
  }
  showResults(v, entries, query)
  v.status.textContent =
    entries.length === 0
      ? `No results for “${query}”`
      : hits.length > MAX_RESULTS
        ? `Top ${MAX_RESULTS} of ${hits.length} results`
        : `${entries.length} result${entries.length === 1 ? '' : 's'}`
}

function showResults(v: View, results: {entry: SearchEntry; hit: SearchResult}[], query: string | null): void {
  v.list.replaceChildren()
  shown = []
  active = -1
  v.input.removeAttribute('aria-activedescendant')
  for (const {entry, hit} of results) {
    const re = highlighter([...hit.terms, ...(query ?? '').split(/\s+/)])
    const option = document.createElement('div')
    option.id = `tp-search-option-${shown.length}`
    option.className = 'tp-search-result'
    option.setAttribute('role', 'option')
    option.setAttribute('aria-selected', 'false')

    const kind = document.createElement('span')
    kind.className = 'tp-search-kind'
    kind.dataset['kind'] = entry.kind
    kind.textContent = KIND_LABELS[entry.kind] ?? entry.kind

    const title = document.createElement('span')
    title.className = 'tp-search-title'
    highlight(title, entry.title, re)

    option.append(kind, title)
    const where = contextOf(entry)
    if (where !== '') {
      const context = document.createElement('span')
      context.className = 'tp-search-context'
      context.textContent = where
      option.append(context)
    }
    if (entry.text !== '') {
      const snippet = document.createElement('span')
      snippet.className = 'tp-search-snippet'
      highlight(snippet, excerpt(entry.text, re), re)
      option.append(snippet)
    }
    v.list.append(option)
    shown.push(entry)
  }
  v.list.hidden = shown.length === 0
  v.input.setAttribute('aria-expanded', String(shown.length > 0))
  if (shown.length > 0) setActive(0, false)
}

/** "Page › Chapter › Section", without repeating the page title. */
function contextOf(entry: SearchEntry): string {
  if (entry.kind === 'page') return entry.path !== '' && entry.path !== entry.title ? entry.path : ''
  if (entry.path === '') return entry.page
  return entry.path === entry.page || entry.path.startsWith(entry.page + ' › ') ? entry.path : `${entry.page} › ${entry.path}`
}

function onKey(event: KeyboardEvent): void {
  if (event.isComposing) return
  const count = shown.length
  switch (event.key) {
    case 'ArrowDown':
      if (count === 0) return
      event.preventDefault()
      setActive((active + 1) % count, true)
      break
    case 'ArrowUp':
      if (count === 0) return
      event.preventDefault()
      setActive((active - 1 + count) % count, true)
      break
    case 'Enter':
      if (active === -1) return
      event.preventDefault()
      go(active, event.ctrlKey || event.metaKey || event.shiftKey)
      break
    case 'Escape':
      // A search input would clear itself first; close at once instead.
      event.preventDefault()
      view?.dialog.close()
      break
    default:
  }
}

function setActive(i: number, scroll: boolean): void {
  const v = view
  if (v === undefined) return
  v.list.children[active]?.setAttribute('aria-selected', 'false')
  active = i
  const option = v.list.children[i]
  if (option === undefined) {
    v.input.removeAttribute('aria-activedescendant')
    return
  }
  option.setAttribute('aria-selected', 'true')
  v.input.setAttribute('aria-activedescendant', option.id)
  if (scroll) option.scrollIntoView({block: 'nearest'})
}

function optionIndex(target: EventTarget | null): number {
  if (!(target instanceof Element) || view === undefined) return -1
  const option = target.closest('[role="option"]')
  return option === null ? -1 : Array.prototype.indexOf.call(view.list.children, option)
}

function go(i: number, newTab: boolean): void {
  const entry = shown[i]
  if (entry === undefined || view === undefined) return
  if (newTab) {
    window.open(entry.url, '_blank', 'noopener')
    return
  }
  returnFocus = null
  view.dialog.close()
  location.assign(entry.url)
}

async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  const pending = Symbol('pending')
  const first = await Promise.race([promise.then(() => true, () => true), Promise.resolve(pending)])
  return first !== pending
}
