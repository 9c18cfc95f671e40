import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {crc32} from 'node:zlib'
import path from 'node:path'
import {AsideFile} from '../fs/atomic.js'
import type {PublishedFile} from '../outputs/types.js'
import {fileDocuments} from './documents.js'
import {schemaVersion, type DocumentNode} from './schema.js'

/** What a sync needs of one file's tree without reading the file's compile: its node ids and hashes, in display order. */
export interface FileSummary {
  ids: string[]
  hashes: string[]
}

/**
 * The ids and hashes of every file's document tree, by the file's compile key
 * (and the project and schema), in `.tagpress/mongo/trees.json`: a build whose
 * files did not change compares them with the database without reading a
 * single compile. One instance per state folder and project per process, so
 * `nodes.jsonl` and the sync of one build share it.
 *
 * The file: a line `{"version":3}`, then a line per source: the CRC-32 of the rest of the line (8 hex digits) and a
 * tab, `[source, key]`, a tab, and `[ids, hashes]`. It is
 * kept as bytes and a file's ids and hashes are decoded only when asked for: a build without a database never
 * decodes them (at 10,000 files, ~150,000 strings and ~21 MB of heap), and copies the lines of unchanged files.
 */
export class DocumentCache {
  private static readonly open = new Map<string, DocumentCache>()
  /** The file as last read or written. */
  private bytes: Buffer = Buffer.alloc(0)
  /** Each source's key, where its line starts, and the range of its `[ids, hashes]` in `bytes`. */
  private readonly lines = new Map<string, {key: string; lineStart: number; start: number; end: number}>()
  /**
   * Lines made in this process since the file was last written (they win over `lines`), as UTF-8: a cold build makes
   * every file's, and as bytes they stay out of the heap.
   */
  private readonly made = new Map<string, {key: string; line: Buffer}>()
  private changed = false

  private constructor(
    private readonly file: string,
    readonly project: string
  ) {
    this.load()
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
    const key = this.key(file)
    const made = this.made.get(file.source)
    if (made?.key === key) {
      const [ids, hashes] = JSON.parse(made.line.toString('utf8', made.line.indexOf(9, checkBytes + 1) + 1)) as [string[], string[]]
      return {ids, hashes}
    }
    const line = this.lines.get(file.source)
    if (!made && line?.key === key) {
      try {
        const [ids, hashes] = JSON.parse(this.bytes.toString('utf8', line.start, line.end)) as [string[], string[]]
        if (Array.isArray(ids) && Array.isArray(hashes)) return {ids, hashes}
      } catch {
        // A damaged line: computed again below, and written anew.
      }
      this.lines.delete(file.source)
    }
    return summarize(this.documents(file))
  }

  /** The file's nodes (reads its compile), remembering their summary. */
  documents(file: PublishedFile): DocumentNode[] {
    const docs = fileDocuments(file, this.project, file.detail())
    const key = this.key(file)
    const known = this.made.get(file.source)?.key ?? this.lines.get(file.source)?.key
    if (known !== key) {
      const {ids, hashes} = summarize(docs)
      this.made.set(file.source, {key, line: lineOf(file.source, key, ids, hashes)})
      this.changed = true
    }
    return docs
  }

  /** Keep only the published files' entries; write the cache if anything changed. */
  save(files: readonly PublishedFile[]): void {
    const live = new Set(files.map((file) => file.source))
    for (const source of [...this.lines.keys(), ...this.made.keys()]) if (!live.has(source)) this.changed = true
    if (!this.changed) return
    // Line by line into a file aside, then renamed over: the unchanged files' lines are copied as bytes.
    const out = new AsideFile(this.file)
    try {
      out.write(Buffer.from(head + '\n'))
      // Old lines next to each other in both files are copied with one write.
      let run: {start: number; end: number} | undefined
      const flush = (): void => {
        if (run) out.write(this.bytes.subarray(run.start, run.end))
        run = undefined
      }
      for (const source of [...new Set([...this.lines.keys(), ...this.made.keys()])].sort()) {
        if (!live.has(source)) continue
        const made = this.made.get(source)
        const line = this.lines.get(source)
        if (made || !line) {
          flush()
          if (made) out.write(made.line)
        } else if (line.end < this.bytes.length) {
          // With its newline.
          if (run && run.end === line.lineStart) run.end = line.end + 1
          else {
            flush()
            run = {start: line.lineStart, end: line.end + 1}
          }
        } else {
          // The last line of a file cut short after it: its newline added.
          flush()
          out.write(Buffer.concat([this.bytes.subarray(line.lineStart, line.end), Buffer.from('\n')]))
        }
      }
      flush()
      out.commit()
    } catch (error) {
      out.abort()
      throw error
    }
    this.made.clear()
    this.changed = false
    this.load()
  }

  private load(): void {
    this.lines.clear()
    try {
      this.bytes = readFileSync(this.file)
    } catch {
      // No cache yet: it is made.
      this.bytes = Buffer.alloc(0)
      return
    }
    const first = this.bytes.indexOf(10)
    if (first === -1 || this.bytes.toString('utf8', 0, first) !== head) {
      // Another version's file, or a damaged one: it is made again.
      this.changed = true
      return
    }
    for (let start = first + 1; start < this.bytes.length; ) {
      let end = this.bytes.indexOf(10, start)
      if (end === -1) end = this.bytes.length
      const body = start + checkBytes + 1
      const tab = this.bytes.indexOf(9, body)
      try {
        // A line whose check fails (cut short, a byte changed) is dropped, and made again when a sync needs it.
        if (this.bytes[body - 1] !== 9 || this.bytes.toString('latin1', start, body - 1) !== check(this.bytes.subarray(body, end))) throw new Error('damaged')
        if (tab === -1 || tab > end) throw new Error('no tab')
        const [source, key] = JSON.parse(this.bytes.toString('utf8', body, tab)) as [string, string]
        this.lines.set(source, {key, lineStart: start, start: tab + 1, end})
      } catch {
        this.changed = true
      }
      start = end + 1
    }
  }
}

const head = '{"version":3}'
/** Each line starts with the CRC-32 of the rest, in hex, and a tab. */
const checkBytes = 8

function check(bytes: Uint8Array): string {
  return crc32(bytes).toString(16).padStart(checkBytes, '0')
}

function lineOf(source: string, key: string, ids: readonly string[], hashes: readonly string[]): Buffer {
  const rest = Buffer.from(JSON.stringify([source, key]) + '\t' + JSON.stringify([ids, hashes]))
  return Buffer.concat([Buffer.from(check(rest) + '\t'), rest, Buffer.from('\n')])
}

export function summarize(docs: readonly DocumentNode[]): FileSummary {
  return {ids: docs.map((doc) => doc._id), hashes: docs.map((doc) => doc.content_hash)}
}

/** The project a build's document nodes belong to: the site's title (default: the package or folder name). */
export function projectOf(config: {site: {title: string}}): string {
  return config.site.title
}
