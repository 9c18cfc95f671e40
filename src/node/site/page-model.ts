/**
 * The contract between the compiler and the theme's page layout: everything a
 * page shows, already resolved (URLs include `site.base`, HTML is trusted and
 * escaped where it came from text).
 */

/** A folder (with children) or a page (with url) in the sidebar. */
export interface NavItem {
  title: string
  /** Page URL (with base); absent for folders without an index page. */
  url?: string
  /** The page being rendered. */
  active?: boolean
  /** Folder on the path to the active page (render expanded). */
  open?: boolean
  children?: NavItem[]
}

/** A heading of the page in the table of contents. */
export interface TocItem {
  title: string
  /** Fragment id, without `#`. */
  anchor: string
  /** Heading depth, 1–6. */
  level: number
  /** Section number, e.g. `1.2`. */
  number: string
  children: TocItem[]
}

export interface PageLink {
  title: string
  url: string
}

export interface PageModel {
  kind: 'page' | '404'
  lang: string
  site: {
    title: string
    /** Always starts and ends with `/`. */
    base: string
    /** Absolute origin + base, e.g. `https://example.com/docs/`, when configured. */
    url?: string
  }
  title: string
  description: string
  /** Page path relative to base, e.g. `guide/intro.html`. */
  path: string
  /** Absolute URL when `site.url` is set (canonical, Open Graph). */
  canonical?: string
  /** The compiled Markdown, as HTML. */
  bodyHtml: string
  toc: TocItem[]
  nav: NavItem[]
  breadcrumbs: PageLink[]
  prev?: PageLink
  next?: PageLink
  /** From git (last commit touching the file) or the file time. */
  lastUpdated?: {iso: string; text: string}
  editUrl?: string
  /** Theme assets (content-hashed, with base). */
  assets: {css: string[]; js: string[]}
  /** URL of the client search index (JSON, see search-entry.ts). */
  searchIndexUrl: string
  /** Number of Q/A pairs on the page. */
  qaCount: number
  /** What the page gives the datasets and decks (the "from this page" box); absent on generated pages. */
  records?: PageRecords
}

/** A page's share of the outputs. */
export interface PageRecords {
  blocks: number
  chapters: number
  qa: number
  /** Anki cards (0 when the page has `anki: false`). */
  cards: number
  /** `datasets: false`: the page is left out of the datasets. */
  excluded: boolean
  /** The page's records as JSON (`{blocks, chapters, qa}`), when it has any. */
  sliceUrl?: string
  /** The Datasets page. */
  datasetsUrl: string
}
