/**
 * A section: a heading with everything up to the next heading of the same or
 * a higher level; section `0` is the text before the first heading.
 */
export interface Section {
  /** `0`, `1`, `1.2`, … numbered by nesting, per file. */
  number: string
  /** Heading depth (1–6); 0 for section `0`. */
  level: number
  /** The topic (`[/T]…[T/]`) or, without one, the heading's text. */
  title: string
  /** The heading's whole visible text. */
  text: string
  /** Fragment id on the page, unique in the file. */
  anchor: string
  /** `[/T#id]`, when the author gave one. */
  explicitId?: string
  /** Titles from the top-level ancestor down to this section. */
  chapterTree: string[]
  /** Stable identity: the slugs of the chapter tree, joined with `/` (or the explicit id). */
  slugPath: string
  /** Index of the parent section in `file.data.sections`, or -1. */
  parent: number
  /** Source offsets: from the heading to the end of the last node of the section and its subsections. */
  start: number
  end: number
  /** Index of the heading among the root's children (-1 for section 0). */
  rootIndex: number
}

declare module 'vfile' {
  interface DataMap {
    /** Sections in document order; section 0 only when there is content before the first heading. */
    sections: Section[]
    /** For each child of the root, the index of its (innermost) section in `sections`. */
    rootSections: number[]
    /** Every fragment id used on the page so far (sections, then Q/A, …). */
    anchors: string[]
  }
}
