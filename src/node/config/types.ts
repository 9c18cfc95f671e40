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
  anki: {deck: string; instruction?: string; answerIntro: string}
  litgpt: {kinds: Array<'qa' | 'blocks' | 'chapters'>}
  mongo: {uri?: string; db: string}
  llm: {backend: 'ollama' | 'openai'; host: string; model: string; options: Record<string, unknown>}
  server: {port?: number; host: string; token?: string}
}
