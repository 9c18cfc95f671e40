import {createHash} from 'node:crypto'
import {readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import MiniSearch from 'minisearch'
import {BuildCache} from '../build/cache.js'
import {scanContent} from '../build/scan.js'
import {compileFile} from '../compile/compile-file.js'
import {rememberHighlights} from '../compile/highlight.js'
import {fileIdOf, pagePathOf} from '../compile/resolve.js'
import type {SectionInfo} from '../compile/types.js'
import type {Config} from '../config/types.js'
import type {Source} from './types.js'

/**
 * Retrieval over the compiler's own records, no second parser: each page is
 * compiled by `compileFile` with every block read (`blockread: all`), which
 * gives every block's Markdown with its chapter id, the sections with their
 * anchors and chapter trees, and the Q/A pairs. Those become units (one per
 * section, long sections split at block boundaries), ranked by BM25+
 * (minisearch) on title, chapter path, the section's questions and its text.
 */

/** One retrievable piece of a page: a section, or a part of a long one. */
export interface Unit {
  /** `<file_id>#<anchor>`, with `~n` for the parts of a long section. */
  id: string
  page: string
  pageTitle: string
  /** Heading anchor ('' for the text before the first heading). */
  anchor: string
  number: string
  title: string
  path: string
  /** Markdown of the section's own blocks (subsections are units of their own). */
  text: string
  /** The section's questions (its Q/A pairs), a strong signal. */
  questions: string
  /** Document order in the page. */
  order: number
  /** Estimated tokens of the unit as it goes into the prompt. */
  tokens: number
}

export interface PageView {
  fileId: string
  source: string
  title: string
  hash: string
  draft: boolean
  units: Unit[]
  sections: SectionInfo[]
}

export interface Ranked {
  unit: Unit
  score: number
}

/** Longest unit before a section is split at block boundaries (tokens). */
export const ASK_UNIT_MAX_TOKENS = 400
/** Units scoring under this share of the best are left out, so noise does not fill the budget. */
export const ASK_RELATIVE_SCORE_FLOOR = 0.2
/** How much a parent question counts in a reply's query. */
export const ASK_HISTORY_QUERY_WEIGHT = 0.35
/** Rescan the content folder at most this often (ms) for site-wide questions. */
const rescanMs = 2000

const stopWords = new Set(
  ('a an and are as at be but by can could do does did for from had has have how i if in into is it its me my no not of on or our so ' +
    'that the their them then there these they this those to too us was we were what when where which who whom why will with would you your ' +
    'about any some should shall may might must than also just only very more most such each other both own same s t don isn aren doesn page tagpress')
    .split(' ')
)

/** Lower case, no stop words, a light English suffix stemmer: enough for "markers"/"marker", "writes"/"writing". */
export function processTerm(term: string): string | null {
  let word = term.toLowerCase().replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '')
  if (word.length < 2 || stopWords.has(word)) return null
  if (/^\d+$/.test(word)) return word
  if (word.length > 5 && word.endsWith('ies')) word = word.slice(0, -3) + 'y'
  else if (word.length > 4 && /(?:ches|shes|sses|xes|zes)$/.test(word)) word = word.slice(0, -2)
  else if (word.length > 3 && word.endsWith('s') && !/(?:ss|us|is)$/.test(word)) word = word.slice(0, -1)
  if (word.length > 6 && word.endsWith('ing')) word = undouble(word.slice(0, -3))
  else if (word.length > 5 && word.endsWith('ed') && !word.endsWith('eed')) word = undouble(word.slice(0, -2))
  if (word.length > 4 && word.endsWith('e')) word = word.slice(0, -1)
  return word
}

function undouble(word: string): string {
  return /([b-df-hj-np-tv-z])\1$/.test(word) && !/(?:ll|ss|zz)$/.test(word) ? word.slice(0, -1) : word
}

/** Token estimate: characters over characters-per-token, code counted denser than prose. Calibrated from the backend's own counts. */
export class TokenEstimator {
  constructor(
    public charsPerToken = 4,
    public codeCharsPerToken = 3
  ) {}

  estimate(text: string): number {
    let code = 0
    for (const match of text.matchAll(/```[\s\S]*?(?:```|$)/g)) code += match[0].length
    return Math.ceil((text.length - code) / this.charsPerToken + code / this.codeCharsPerToken)
  }

  /** After an answer: the backend counted `promptTokens` for `promptChars`; only ever grow the estimate. */
  calibrate(promptChars: number, promptTokens: number | undefined): void {
    if (!promptTokens || promptTokens < 32) return
    const ratio = promptChars / promptTokens
    if (ratio >= 1.5 && ratio < this.charsPerToken) {
      this.codeCharsPerToken = Math.max(1.5, this.codeCharsPerToken * (ratio / this.charsPerToken))
      this.charsPerToken = ratio
    }
  }
}

export class PageNotFound extends Error {
  override name = 'PageNotFound'
}

interface Cached {
  size: number
  mtimeMs: number
  view: PageView
}

export interface RetrieverOptions {
  /** Include `draft: true` pages (the dev server). */
  drafts?: boolean
  estimator?: TokenEstimator
}

/**
 * Pages compiled for retrieval, kept in memory and recompiled when their
 * file changes (size or time); a per-page index, and one for the whole site.
 */
export class Retriever {
  readonly estimator: TokenEstimator
  private readonly cached = new Map<string, Cached>()
  private sources: string[] = []
  private scannedAt = -Infinity
  private siteIndex: {key: string; search: MiniSearch<Unit>; units: Map<string, Unit>} | undefined
  private readonly pageIndexes = new Map<string, {hash: string; search: MiniSearch<Unit>}>()
  private buildCache: BuildCache | undefined
  private queue: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly config: Config,
    private readonly options: RetrieverOptions = {}
  ) {
    this.estimator = options.estimator ?? new TokenEstimator()
  }

  /** File ids of the content folder (drafts only when allowed). */
  async pageIds(): Promise<string[]> {
    this.rescan(true)
    const ids: string[] = []
    for (const source of this.sources) {
      const view = await this.compile(source)
      if (view && (this.options.drafts || !view.draft)) ids.push(view.fileId)
    }
    return ids
  }

  /** The compiled view of a page, by file id; `PageNotFound` when there is none (or it is a draft outside the dev server). */
  async page(fileId: string): Promise<PageView> {
    const id = fileId.replace(/^\/+/, '').replace(/\.(?:html|md)$/i, '').replace(/\/$/, '/index')
    this.rescan(false)
    let source = this.sources.find((candidate) => fileIdOf(candidate) === id)
    if (!source) {
      this.rescan(true)
      source = this.sources.find((candidate) => fileIdOf(candidate) === id)
    }
    const view = source ? await this.compile(source) : undefined
    if (!view || (view.draft && !this.options.drafts)) throw new PageNotFound('No page `' + fileId + '` in ' + this.config.content)
    return view
  }

  /** Rank units for a question: the page's, or the whole site's. History (earlier questions) counts less. */
  async rank(question: string, options: {page: string; scope: 'page' | 'site'; history?: string[]}): Promise<Ranked[]> {
    const view = await this.page(options.page)
    const index = options.scope === 'site' ? await this.site() : this.pageIndex(view)
    const scores = new Map<string, number>()
    const add = (query: string, weight: number): void => {
      if (query.trim() === '') return
      for (const result of index.search.search(query, searchOptions)) scores.set(result.id as string, (scores.get(result.id as string) ?? 0) + result.score * weight)
    }
    add(question, 1)
    for (const earlier of options.history ?? []) add(earlier, ASK_HISTORY_QUERY_WEIGHT)
    const units: Map<string, Unit> = 'units' in index ? (index.units as Map<string, Unit>) : new Map(view.units.map((unit) => [unit.id, unit]))
    const ranked: Ranked[] = []
    for (const [id, score] of scores) {
      const unit = units.get(id)
      // Site-wide, the page being read is preferred a little: the reader is asking about it.
      if (unit) ranked.push({unit, score: options.scope === 'site' && unit.page === view.fileId ? score * 1.25 : score})
    }
    return ranked.sort((a, b) => b.score - a.score || a.unit.order - b.unit.order)
  }

  /**
   * The context for a question: the best units that fit `budget` tokens, in
   * document order, each with its citation label. With no match at all, the
   * page from its start (so the model can still say it is not covered).
   */
  async context(question: string, options: {page: string; scope: 'page' | 'site'; history?: string[]; budget: number}): Promise<{parts: Array<{label: string; unit: Unit}>; sources: Source[]}> {
    const view = await this.page(options.page)
    const ranked = await this.rank(question, options)
    const top = ranked[0]?.score ?? 0
    const candidates = ranked.length > 0 ? ranked.filter((item) => item.score >= top * ASK_RELATIVE_SCORE_FLOOR).map((item) => item.unit) : view.units
    const chosen: Unit[] = []
    let left = options.budget
    for (const unit of candidates) {
      if (unit.tokens > left) {
        // Too big for what is left: a shortened copy for the best unit only, so the context is never empty.
        if (chosen.length === 0 && left > 64) {
          const text = unit.text.slice(0, Math.max(0, Math.floor(left * this.estimator.charsPerToken * 0.9)))
          chosen.push({...unit, text, tokens: this.estimator.estimate(text) + 24})
          left = 0
        }
        continue
      }
      chosen.push(unit)
      left -= unit.tokens
      if (left <= 32) break
    }
    const pageOrder = new Map<string, number>()
    for (const unit of chosen) if (!pageOrder.has(unit.page)) pageOrder.set(unit.page, unit.page === view.fileId ? -1 : pageOrder.size)
    chosen.sort((a, b) => (pageOrder.get(a.page) ?? 0) - (pageOrder.get(b.page) ?? 0) || a.order - b.order)
    const sources: Source[] = []
    const labels = new Map<string, string>()
    for (const unit of chosen) {
      const key = unit.page + '#' + unit.anchor
      if (!labels.has(key)) {
        labels.set(key, String(labels.size + 1))
        sources.push({
          label: String(labels.size),
          id: unit.anchor ? unit.page + '#' + unit.anchor : unit.page,
          page: unit.page,
          anchor: unit.anchor,
          href: this.config.site.base + pagePathOf(unit.page) + (unit.anchor ? '#' + unit.anchor : ''),
          title: unit.title,
          path: unit.path
        })
      }
    }
    return {parts: chosen.map((unit) => ({label: labels.get(unit.page + '#' + unit.anchor) as string, unit})), sources}
  }

  private rescan(force: boolean): void {
    const now = performance.now()
    if (!force && now - this.scannedAt < rescanMs && this.sources.length > 0) return
    this.sources = scanContent(this.config.content).map((stat) => stat.source)
    this.scannedAt = now
  }

  /** Compile a source (once per change; one compile at a time: the compiler's processor is shared). */
  private compile(source: string): Promise<PageView | undefined> {
    const run = this.queue.then(() => this.compileNow(source))
    this.queue = run.catch(() => undefined)
    return run
  }

  private async compileNow(source: string): Promise<PageView | undefined> {
    const file = path.join(this.config.content, source)
    const stat = statSync(file, {throwIfNoEntry: false})
    if (!stat?.isFile()) {
      this.cached.delete(source)
      return undefined
    }
    const known = this.cached.get(source)
    if (known && known.size === stat.size && known.mtimeMs === stat.mtimeMs) return known.view
    const value = readFileSync(file, 'utf8')
    const hash = createHash('sha256').update(value).digest('hex')
    if (known && known.view.hash === hash) {
      this.cached.set(source, {size: stat.size, mtimeMs: stat.mtimeMs, view: known.view})
      return known.view
    }
    this.primeHighlights(source)
    const compiled = await compileFile({source, value, defaults: {...this.folderDefaults(source), blockread: 'all'}}, {contentDir: this.config.content, base: this.config.site.base})
    const view = this.viewOf(compiled.fileId, source, compiled.title, hash, compiled.settings.draft === true, compiled.sections, compiled.records.blocks, compiled.qa)
    this.cached.set(source, {size: stat.size, mtimeMs: stat.mtimeMs, view})
    return view
  }

  /** Highlighted code from the build cache, so a page compiles without starting the highlighter. */
  private primeHighlights(source: string): void {
    try {
      this.buildCache ??= new BuildCache(path.join(this.config.root, '.tagpress'), false)
      const entry = this.buildCache.index.files[source]
      const detail = entry ? this.buildCache.readDetail(entry.good ?? entry.key) : undefined
      if (detail?.code) rememberHighlights(detail.code)
    } catch {
      // No cache (never built): the compile highlights by itself.
    }
  }

  private folderDefaults(source: string): Record<string, unknown> {
    const settings: Record<string, unknown> = {}
    const rules = Object.entries(this.config.folders)
      .map(([folder, value]) => ({folder: folder.replace(/^\.?\/+|\/+$/g, ''), value}))
      .sort((a, b) => a.folder.length - b.folder.length)
    for (const rule of rules) if (rule.folder === '' || source.startsWith(rule.folder + '/')) Object.assign(settings, rule.value)
    return settings
  }

  private viewOf(fileId: string, source: string, title: string, hash: string, draft: boolean, sections: SectionInfo[], blocksJsonl: string, qa: Array<{question: string; section: number}>): PageView {
    interface BlockRecord {
      kind: string
      lang?: string
      chapter_id: string
      content: string
    }
    const bySection = new Map<string, string[]>()
    for (const line of blocksJsonl.split('\n')) {
      if (line === '') continue
      const block = JSON.parse(line) as BlockRecord
      if (block.kind === 'heading') continue
      const text = block.kind === 'code' ? '```' + (block.lang ?? '') + '\n' + block.content + '\n```' : block.content
      const list = bySection.get(block.chapter_id) ?? []
      list.push(text)
      bySection.set(block.chapter_id, list)
    }
    const questions = new Map<string, string[]>()
    for (const pair of qa) {
      const number = sections[pair.section]?.number ?? '0'
      const list = questions.get(number) ?? []
      list.push(pair.question)
      questions.set(number, list)
    }
    const units: Unit[] = []
    const places: Array<{number: string; anchor: string; title: string; path: string}> = [
      {number: '0', anchor: '', title, path: title},
      ...sections.filter((section) => section.level > 0).map((section) => ({number: section.number, anchor: section.anchor, title: section.title, path: section.chapterTree.join(' › ')}))
    ]
    for (const place of places) {
      const blocks = bySection.get(place.number) ?? []
      const asked = (questions.get(place.number) ?? []).join('\n')
      if (blocks.length === 0 && place.number === '0') continue
      const base = place.anchor ? fileId + '#' + place.anchor : fileId
      // Split long sections at block boundaries.
      const parts: string[][] = [[]]
      let size = 0
      for (const block of blocks) {
        const tokens = this.estimator.estimate(block)
        const current = parts[parts.length - 1] as string[]
        if (current.length > 0 && size + tokens > ASK_UNIT_MAX_TOKENS) {
          parts.push([block])
          size = tokens
        } else {
          current.push(block)
          size += tokens
        }
      }
      parts.forEach((part, index) => {
        const text = part.join('\n\n')
        units.push({
          id: index === 0 ? base : base + '~' + (index + 1),
          page: fileId,
          pageTitle: title,
          anchor: place.anchor,
          number: place.number,
          title: place.title,
          path: place.path,
          text,
          questions: asked,
          order: units.length,
          // The text, plus the section's opening tag with its path and title.
          tokens: this.estimator.estimate(text) + this.estimator.estimate(place.path) + 24
        })
      })
    }
    return {fileId, source, title, hash, draft, units, sections}
  }

  private pageIndex(view: PageView): {search: MiniSearch<Unit>} {
    const known = this.pageIndexes.get(view.fileId)
    if (known && known.hash === view.hash) return known
    const search = newIndex()
    search.addAll(view.units)
    const index = {hash: view.hash, search}
    this.pageIndexes.set(view.fileId, index)
    return index
  }

  private async site(): Promise<{search: MiniSearch<Unit>; units: Map<string, Unit>}> {
    this.rescan(false)
    const views: PageView[] = []
    for (const source of this.sources) {
      const view = await this.compile(source)
      if (view && (this.options.drafts || !view.draft)) views.push(view)
    }
    const key = views.map((view) => view.fileId + ':' + view.hash).join('\n')
    if (this.siteIndex?.key === key) return this.siteIndex
    const search = newIndex()
    const units = new Map<string, Unit>()
    for (const view of views) {
      search.addAll(view.units)
      for (const unit of view.units) units.set(unit.id, unit)
    }
    this.siteIndex = {key, search, units}
    return this.siteIndex
  }
}

const searchOptions = {
  boost: {title: 3, questions: 2, path: 1.5, text: 1},
  prefix: (term: string) => term.length >= 4,
  fuzzy: (term: string) => (term.length >= 6 ? 0.15 : false),
  combineWith: 'OR' as const
}

function newIndex(): MiniSearch<Unit> {
  return new MiniSearch<Unit>({
    fields: ['title', 'path', 'questions', 'text'],
    idField: 'id',
    processTerm,
    searchOptions
  })
}
