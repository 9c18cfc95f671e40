import {createHash} from 'node:crypto'
import {readFileSync, readdirSync, rmSync, existsSync} from 'node:fs'
import path from 'node:path'
import {writeAtomicSync} from '../fs/atomic.js'
import type {CompiledFile} from '../compile/types.js'

/** The large parts of a compiled file, kept out of memory between phases. */
export const partNames = ['html', 'blocks', 'chapters', 'qa', 'search', 'detail'] as const
export type PartName = (typeof partNames)[number]

/** A compiled file without its large parts: what the build keeps in memory (and in the index) for every file. */
export type CompiledMeta = Omit<CompiledFile, 'html' | 'records' | 'search' | 'sections' | 'qa'>

/** The parts read back only when a page is rendered or a deck or tree is written. */
export type CompiledDetail = Pick<CompiledFile, 'sections' | 'qa'>

/** One source file in the cache index. */
export interface FileEntry {
  size: number
  mtimeMs: number
  /** SHA-256 of the source. */
  hash: string
  /** Cache key of its latest compile. */
  key: string
  /** Cache key of its last compile without errors (its "last good output"). */
  good?: string
}

export interface CacheIndex {
  version: 1
  files: Record<string, FileEntry>
  /** Summaries (meta) per cache key, for every key some entry points at. */
  meta: Record<string, CompiledMeta>
}

const header = 'tagpress-cache-1\n'

/**
 * The build cache in `.tagpress/cache/`: one file per compiled source
 * (keyed by tool, config and content), and an index of sources and summaries.
 */
export class BuildCache {
  readonly dir: string
  index: CacheIndex

  constructor(stateDir: string, clean: boolean) {
    this.dir = path.join(stateDir, 'cache')
    this.index = clean ? emptyIndex() : readIndex(path.join(this.dir, 'index.json'))
  }

  /** The key of one compile: the same inputs give the same key, on any machine. */
  static key(toolKey: string, configKey: string, source: string, hash: string, defaults: unknown): string {
    return createHash('sha256').update([toolKey, configKey, source, hash, JSON.stringify(defaults)].join('\0')).digest('hex').slice(0, 40)
  }

  file(key: string): string {
    return path.join(this.dir, 'files', key.slice(0, 2), key)
  }

  has(key: string): boolean {
    return this.index.meta[key] !== undefined && existsSync(this.file(key))
  }

  /** Serialize a compiled file: a summary line, then the large parts back to back. */
  static encode(compiled: CompiledFile): {meta: CompiledMeta; data: string} {
    const {html, records, search, sections, qa, ...meta} = compiled
    const detail: CompiledDetail = {sections, qa}
    const parts: Record<PartName, string> = {
      html,
      blocks: records.blocks,
      chapters: records.chapters,
      qa: records.qa,
      search: search.map((entry) => JSON.stringify(entry) + '\n').join(''),
      detail: JSON.stringify(detail)
    }
    const lengths = partNames.map((name) => parts[name].length)
    return {meta, data: header + JSON.stringify(lengths) + '\n' + partNames.map((name) => parts[name]).join('')}
  }

  /** Synchronous: small files, and a thread-pool round trip per file costs more than the write. */
  write(key: string, data: string): void {
    writeAtomicSync(this.file(key), data)
  }

  /** Read the large parts of a cached compile. */
  readParts(key: string): Record<PartName, string> {
    const text = readFileSync(this.file(key), 'utf8')
    if (!text.startsWith(header)) throw new Error('Corrupt cache file ' + this.file(key))
    const newline = text.indexOf('\n', header.length)
    const lengths = JSON.parse(text.slice(header.length, newline)) as number[]
    const parts = {} as Record<PartName, string>
    let at = newline + 1
    partNames.forEach((name, index) => {
      const length = lengths[index] ?? 0
      parts[name] = text.slice(at, at + length)
      at += length
    })
    return parts
  }

  /** Save the index and delete cache files no entry points at. */
  save(): void {
    const live = new Set<string>()
    for (const entry of Object.values(this.index.files)) {
      live.add(entry.key)
      if (entry.good) live.add(entry.good)
    }
    for (const key of Object.keys(this.index.meta)) if (!live.has(key)) delete this.index.meta[key]
    writeAtomicSync(path.join(this.dir, 'index.json'), JSON.stringify(this.index))
    this.collect(live)
  }

  private collect(live: Set<string>): void {
    const filesDir = path.join(this.dir, 'files')
    let shards: string[]
    try {
      shards = readdirSync(filesDir)
    } catch {
      return
    }
    for (const shard of shards) {
      for (const name of readdirSync(path.join(filesDir, shard))) {
        if (!live.has(name)) rmSync(path.join(filesDir, shard, name), {force: true})
      }
    }
  }
}

function emptyIndex(): CacheIndex {
  return {version: 1, files: {}, meta: {}}
}

function readIndex(file: string): CacheIndex {
  try {
    const index = JSON.parse(readFileSync(file, 'utf8')) as CacheIndex
    return index.version === 1 && index.files && index.meta ? index : emptyIndex()
  } catch {
    // Missing or unreadable: start over (the cache is only ever a shortcut).
    return emptyIndex()
  }
}
