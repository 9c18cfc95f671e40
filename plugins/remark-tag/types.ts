/** A tag that is syntax (not literal text), as a source range. */
export interface TagRange {
  start: number
  end: number
  /** Alone on its line: removing it removes the line. */
  flow: boolean
}

declare module 'vfile' {
  interface DataMap {
    /** Set by remark-tag: the source ranges of every tag that is syntax, sorted. */
    tagRanges: TagRange[]
    /** Set by remark-tag: openers it reported and gave up on, so later checks do not report their consequences. */
    brokenTags: Array<{name: string; offset: number}>
  }
}
