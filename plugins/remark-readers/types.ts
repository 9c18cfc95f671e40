/** A block of the file: a top-level node (heading, paragraph, list, code, table, blockquote, html). */
export interface Block {
  /** 1-based, in document order; the `<file_id>#<block_index>` of records. */
  index: number
  kind: string
  /** A code block's language. */
  lang?: string
  /** Index of its section in `file.data.sections`. */
  section: number
  /** Markdown source with the tags removed; a code block's code. */
  content: string
}

/** A section read whole, with its subsections: one chapter item. */
export interface Chapter {
  /** Index in `file.data.sections`. */
  section: number
  /** The section's source from its heading, tags removed. */
  content: string
}

declare module 'vfile' {
  interface DataMap {
    /** Every block of the file (emitted or not: `block_index` counts them all). */
    blocks: Block[]
    /** 1-based indices of the blocks read by `[/BLOCKREAD/]` (or `blockread: all`), ascending. */
    blockReads: number[]
    /** Chapters read by `[/CHAPTREEREAD/]` (or `chaptread: all`), in document order. */
    chapters: Chapter[]
  }
}
