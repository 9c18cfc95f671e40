import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {writeAtomicSync} from '../fs/atomic.js'
import type {PublishedFile} from '../outputs/types.js'
import {fileDocuments} from './documents.js'
import {schemaVersion, type DocumentNode} from './schema.js'

/** What a sync needs of one file's tree without reading the file's compile: its node ids and hashes, in display order. */
export interface FileSummary {
  ids: string[]
  hashes: string[]
}

interface CacheFile {
  version: 1
  /** `[source, document key, ids, hashes]`. */
  files: Array<[string, string, string[], string[]]>
}

/**
 * The ids and hashes of every file's document tree, by the file's compile key
 * (and the project and schema), in `.tagpress/mongo/trees.json`: a build whose
 * files did not change compares them with the database without reading a
 * single compile. One instance per state folder and project per process, so
 * `nodes.jsonl` and the sync of one build share it.
 */
export class DocumentCache {
  private static readonly open = new Map<string, DocumentCache>()
  private readonly entries = new Map<string, {key: string; summary: FileSummary}>()
  private changed = false

  private constructor(
    private readonly file: string,
    readonly project: string
  ) {
    try {
      const data = JSON.parse(readFileSync(file, 'utf8')) as CacheFile
      if (data.version === 1) for (const [source, key, ids, hashes] of data.files) this.entries.set(source, {key, summary: {ids, hashes}})
    } catch {
      // No cache yet, or an unreadable one: it is rebuilt.
    }
  }

  static for(stateDir: string, project: string): DocumentCache {
    const file = path.join(stateDir, 'mongo', 'trees.json')
    const id = file + '\0' + project
    let cache = DocumentCache.open.get(id)
    if (!cache) {
      cache = new DocumentCache(file, project)
      DocumentCache.open.set(id, cache)
    }
    return cache
  }

  /** Changes exactly when the file's nodes may change: its compile, the project, the schema. */
  key(file: PublishedFile): string {
    return createHash('sha256').update(schemaVersion + '\0' + this.project + '\0' + file.key).digest('hex').slice(0, 40)
  }

  /** The file's ids and hashes: from the cache when its key is known, else computed (reading its compile). */
  summary(file: PublishedFile): FileSummary {
    const entry = this.entries.get(file.source)
    if (entry && entry.key === this.key(file)) return entry.summary
    return summarize(this.documents(file))
  }

  /** The file's nodes (reads its compile), remembering their summary. */
  documents(file: PublishedFile): DocumentNode[] {
    const docs = fileDocuments(file, this.project, file.detail())
    const key = this.key(file)
    const entry = this.entries.get(file.source)
    if (entry?.key !== key) {
      this.entries.set(file.source, {key, summary: summarize(docs)})
      this.changed = true
    }
    return docs
  }

  /** Keep only the published files' entries; write the cache if anything changed. */
  save(files: readonly PublishedFile[]): void {
    const live = new Set(files.map((file) => file.source))
    for (const source of this.entries.keys()) {
      if (!live.has(source)) {
        this.entries.delete(source)
        this.changed = true
      }
    }
    if (!this.changed) return
    const data: CacheFile = {version: 1, files: [...this.entries].map(([source, {key, summary}]) => [source, key, summary.ids, summary.hashes])}
    writeAtomicSync(this.file, JSON.stringify(data))
    this.changed = false
  }
}

export function summarize(docs: readonly DocumentNode[]): FileSummary {
  return {ids: docs.map((doc) => doc._id), hashes: docs.map((doc) => doc.content_hash)}
}

/** The project a build's document nodes belong to: the site's title (default: the package or folder name). */
export function projectOf(config: {site: {title: string}}): string {
  return config.site.title
}
