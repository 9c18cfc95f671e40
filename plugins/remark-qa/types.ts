/** A question with its answer, as the author wrote them (Markdown source, tags removed). */
export interface QaPair {
  question: string
  answer: string
  /** The question as plain text (for slugs, search and titles). */
  questionText: string
  /** Fragment id of the question on the page: the explicit id, else `q-` + slug. */
  anchor: string
  /** `[/Q#id]`, when the author gave one. */
  explicitId?: string
  /** Index in `file.data.sections`. */
  section: number
  /** Index of the root child holding the question. */
  rootIndex: number
  /** Where the question starts. */
  line: number
  column: number
  /** Whether the question is a heading. */
  heading: boolean
}

declare module 'vfile' {
  interface DataMap {
    /** Question/answer pairs in document order. */
    qa: QaPair[]
  }
}
