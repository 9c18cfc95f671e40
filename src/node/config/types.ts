import type {Settings} from '../../../plugins/remark-matter/index.js'

/** The resolved configuration (SPEC §6): defaults < file < environment < flags. */
export interface Config {
  /** Project root (absolute): where the config file is, or the working directory. */
  root: string
  /** Absolute paths. */
  content: string
  out: string
  /** Absolute path of the config file read, if any. */
  file?: string
  site: {
    title: string
    /** Starts and ends with `/`. */
    base: string
    /** Public origin + base, for the sitemap and canonical links. */
    url?: string
    lang: string
    description?: string
    /** `https://github.com/me/repo/edit/main/content/:path` — `:path` is the file's path in the content folder. */
    editLink?: string
  }
  /** Per-folder defaults (`"drafts": {"draft": true}`), keyed by path in the content folder. */
  folders: Record<string, Settings>
  anki: {
    deck: string
    /** Template of each card's Instruction (default: names the section and the question's number there). */
    instruction?: string
    answerIntro: string
    /** One `.apkg` for the project (sub-decks from the chapter tree), one per top-level folder, or one per file. */
    packages: 'project' | 'folder' | 'file'
  }
  litgpt: {
    kinds: Array<'qa' | 'blocks' | 'chapters'>
    /** Share of records in the validation split. */
    valFraction: number
    seed: number
    /** Context length (tokens) for warnings and the pretraining validation minimum. */
    contextLength: number
    microBatchSize: number
    /** Target size of each pretraining text file. */
    textFileBytes: number
    /** A `tokenizer.json` for exact token counts (absolute path). */
    tokenizer?: string
    license?: string
  }
  mongo: {uri?: string; db: string}
  llm: {backend: 'ollama' | 'openai'; host: string; model: string; options: Record<string, unknown>}
  server: {port?: number; host: string; token?: string}
}
