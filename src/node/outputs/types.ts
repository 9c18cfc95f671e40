import type {CompiledDetail, CompiledMeta} from '../build/cache.js'
import type {Progress} from '../build/progress.js'
import type {Config} from '../config/types.js'

/**
 * A published source file as every output sees it: its summary in memory,
 * its large parts read from the build cache on demand.
 */
export interface PublishedFile {
  /** Path relative to the content folder, with `/`. */
  source: string
  /** Cache key of the compile it publishes: changes exactly when its compiled output changes. */
  key: string
  meta: CompiledMeta
  /** When the source last changed, in seconds: git commit time, or file time when uncommitted (SOURCE_DATE_EPOCH floor). */
  time: number
  /** Sections, Q/A pairs (Markdown and HTML) and highlighted code. */
  detail: () => CompiledDetail
  /** The records as JSONL (`blocks`, `chapters`, `qa`); only these parts of the compile are decoded. */
  parts: () => Record<'blocks' | 'chapters' | 'qa', string>
}

/** One file an output wrote, for the manifest. */
export interface OutputFile {
  /** Path relative to the out folder, with `/`. */
  path: string
  records: number
  bytes: number
  sha256: string
}

export interface OutputContext {
  config: Config
  /** The `.tagpress` folder, for an output's own tool state. */
  stateDir: string
  buildId: string
  /** Every published file, in source order (drafts left out unless the dev server asked for them). */
  files: readonly PublishedFile[]
  progress: Progress
  /** What this output returned as `state` from the previous build into the same out folder. */
  previous: unknown
  /** Warnings for the build report (printed, not errors). */
  warn: (message: string) => void
  /**
   * `true` when a newer edit waits (the dev server): an output may then stop before it writes anything and
   * return `{stopped: true}`; its files and state stay the previous build's and the next build writes it.
   */
  stopping?: () => boolean
}

export interface OutputResult {
  files: OutputFile[]
  /** Kept in `.tagpress/build-state.json` and handed back next build as `previous`. */
  state?: unknown
  /** Stopped before writing anything (see `stopping`). */
  stopped?: true
}

/** An output written by every build after the site and the datasets (decks, LitGPT corpora, trees). */
export interface BuildOutput {
  name: string
  write: (context: OutputContext) => Promise<OutputResult>
}
