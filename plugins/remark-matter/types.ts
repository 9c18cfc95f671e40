/** The front-matter keys tagpress reads (others are kept for the author's own use). */
export interface Matter {
  title?: string
  description?: string
  tags?: string[]
  /** `all`: every block of the file is a block item, without markers. */
  blockread?: 'all'
  /** `all`: every section of the file is a chapter item, without markers. */
  chaptread?: 'all'
  /** `false`: keep the file out of the datasets. */
  datasets?: boolean
  /** `false`: keep the file's Q/A out of the Anki decks. */
  anki?: boolean
  /** `true`: only the dev server shows the file. */
  draft?: boolean
  /** Sort key in the navigation (lower first; then by title). */
  order?: number
  [key: string]: unknown
}

/** What applies to a file: folder defaults from the config, overridden by its front matter. */
export type Settings = Pick<Matter, 'blockread' | 'chaptread' | 'datasets' | 'anki' | 'draft' | 'tags'>

declare module 'vfile' {
  interface DataMap {
    /** Front matter as written (validated). */
    matter: Matter
    /** Folder defaults, set by the caller before processing. */
    defaults: Settings
    /** Defaults merged with the front matter. */
    settings: Settings
  }
}
