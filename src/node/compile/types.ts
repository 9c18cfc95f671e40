import type {SearchEntry} from '../site/search-entry.js'
import type {Settings} from '../../../plugins/remark-matter/index.js'

/** A message about a file, ready to print or serialize. */
export interface FileMessage {
  line: number
  column: number
  endLine?: number
  endColumn?: number
  /** Rule name, e.g. `unclosed-tag`. */
  rule: string
  /** Catalogue code, e.g. `TP001`. */
  code: string
  reason: string
  fatal: boolean
}

/** A heading of the page, for the TOC, navigation and trees. */
export interface SectionInfo {
  number: string
  level: number
  title: string
  /** The heading's whole visible text. */
  text: string
  anchor: string
  chapterTree: string[]
  slugPath: string
  parent: number
}

/** A question/answer pair with everything the site, the decks and the trees need. */
export interface QaInfo {
  id: string
  anchor: string
  explicitId?: string
  question: string
  answer: string
  questionText: string
  section: number
  line: number
  /** The question and answer as HTML, rendered by the site's pipeline (highlighted code, resolved links). */
  questionHtml: string
  answerHtml: string
  /** Content assets the question or answer shows (images), as site paths (`assets/x.1a2b3c4d.png`). */
  media: string[]
}

/** A file copied into the site under a content-hashed name. */
export interface AssetRef {
  /** Path relative to the content folder. */
  source: string
  /** Path relative to the site root, e.g. `assets/logo.1a2b3c4d.svg`. */
  output: string
  size: number
  mtimeMs: number
}

/** Everything one Markdown file compiles to; cached per file in `.tagpress/`. */
export interface CompiledFile {
  fileId: string
  /** Path relative to the content folder, with `/`. */
  source: string
  /** SHA-256 of the source bytes. */
  hash: string
  title: string
  description: string
  /** Front matter `order`: sort key in the navigation. */
  order?: number
  settings: Settings
  sections: SectionInfo[]
  anchors: string[]
  qa: QaInfo[]
  links: Array<{fileId: string; fragment: string; line: number; column: number; url: string}>
  assets: AssetRef[]
  /** The page body. */
  html: string
  /** JSONL (each line ends with `\n`) of the file's records. */
  records: {blocks: string; chapters: string; qa: string}
  counts: {blocks: number; chapters: number; qa: number}
  /** Search entries without base in their URLs (the base is added when the index is written). */
  search: SearchEntry[]
  messages: FileMessage[]
  /** Highlighted code blocks, `[lang, code, html]`, so a recompile of an edited file need not start the highlighter. */
  code: Array<[string, string, string]>
}
