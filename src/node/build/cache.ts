import {createHash} from 'node:crypto'
import {existsSync, readFileSync, rmSync} from 'node:fs'
import {UserError} from '../errors.js'
import path from 'node:path'
import {writeAtomicSync} from '../fs/atomic.js'
import type {CompiledFile} from '../compile/types.js'

/** The large parts of a compiled file, kept out of memory between phases. */
export const partNames = ['html', 'blocks', 'chapters', 'qa', 'search', 'detail'] as const
export type PartName = (typeof partNames)[number]

/** A compiled file without its large parts: what the build keeps in memory (and in the index) for every file. */
export type CompiledMeta = Omit<CompiledFile, 'html' | 'records' | 'search' | 'sections' | 'qa' | 'code'>

/** The parts read back only when a page is rendered or a deck or tree is written. */
export type CompiledDetail = Pick<CompiledFile, 'sections' | 'qa' | 'code'>

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
  /** Whether its latest compile had messages (so a build that reuses it still reports them). */
  messages?: true
}

/** The small index read by every build: which compile each source has. */
export interface CacheIndex {
  version: 2
  /** Tool and config the keys were made with: when it changes, every key is recomputed. */
  fingerprint: string
  files: Record<string, FileEntry>
}

/**
 * The format of a cache file: this header, the byte length of each part (a JSON array on one line), then the parts
 * as UTF-8, back to back. Byte lengths let a reader decode only the parts it needs (the datasets need the records,
 * not the page: at 10,000 files a cold build reads every file several times). Part of every compile's key.
 */
export const cacheFormat = 'tagpress-cache-2'
const header = cacheFormat + '\n'
const headerBytes = Buffer.from(header)
const formatOneBytes = Buffer.from('tagpress-cache-1\n')

/**
 * The build cache in `.tagpress/cache/`: one file per compiled source (keyed
 * by tool, config and content), a small index of sources (`files.json`, read
 * by every build) and the summaries of compiles (`meta.json`, read only when
 * something changed).
 */
export class BuildCache {
  readonly dir: string
  index: CacheIndex
  private metas: Record<string, CompiledMeta> | undefined
  private metasChanged = false

  constructor(stateDir: string, clean: boolean) {
    this.dir = path.join(stateDir, 'cache')
    this.index = clean ? emptyIndex() : readIndex(path.join(this.dir, 'files.json'))
    if (clean) this.metas = {}
  }

  /** Read what another thread's build saved since: its index, and its summaries beside the ones set here. */
  refresh(): void {
    this.index = readIndex(path.join(this.dir, 'files.json'))
    this.metas = {...readMetas(path.join(this.dir, 'meta.json')), ...(this.metas ?? {})}
  }

  /** The key of one compile: the same inputs give the same key, on any machine. */
  static key(fingerprint: string, source: string, hash: string, defaults: unknown): string {
    return createHash('sha256').update([fingerprint, source, hash, JSON.stringify(defaults)].join('\0')).digest('hex').slice(0, 40)
  }

  /** The summary of a cached compile (loads the summaries on first use). */
  meta(key: string): CompiledMeta | undefined {
    this.metas ??= readMetas(path.join(this.dir, 'meta.json'))
    return this.metas[key]
  }

  setMeta(key: string, meta: CompiledMeta): void {
    this.metas ??= readMetas(path.join(this.dir, 'meta.json'))
    this.metas[key] = meta
    this.metasChanged = true
  }

  /** Forget a compile whose file is gone: the next build that needs it compiles it again. */
  forget(key: string): void {
    if (this.metas?.[key] === undefined) return
    delete this.metas[key]
    this.metasChanged = true
  }

  file(key: string): string {
    return path.join(this.dir, 'files', key.slice(0, 2), key)
  }

  /** Whether a compile's file is on disk now (another thread's build may have collected it since). */
  stored(key: string): boolean {
    return existsSync(this.file(key))
  }

  /** Whether a compile is cached (its file is trusted to exist; `readParts` says so clearly if it does not). */
  has(key: string): boolean {
    return this.meta(key) !== undefined
  }

  /** Serialize a compiled file: a summary line, then the large parts back to back. */
  static encode(compiled: CompiledFile): {meta: CompiledMeta; data: string} {
    const {html, records, search, sections, qa, code, ...meta} = compiled
    const detail: CompiledDetail = {sections, qa, code}
    const parts: Record<PartName, string> = {
      html,
      blocks: records.blocks,
      chapters: records.chapters,
      qa: records.qa,
      search: search.map((entry) => JSON.stringify(entry) + '\n').join(''),
      detail: JSON.stringify(detail)
    }
    const lengths = partNames.map((name) => Buffer.byteLength(parts[name]))
    return {meta, data: header + JSON.stringify(lengths) + '\n' + partNames.map((name) => parts[name]).join('')}
  }

  /** Synchronous: small files, and a thread-pool round trip per file costs more than the write. */
  write(key: string, data: string): void {
    writeAtomicSync(this.file(key), data)
  }

  /** The detail part of a cached compile, if it is there. */
  readDetail(key: string): CompiledDetail | undefined {
    try {
      return JSON.parse(this.readParts(key, ['detail']).detail) as CompiledDetail
    } catch {
      return undefined
    }
  }

  /** Read the large parts of a cached compile. */
  readParts(key: string): Record<PartName, string>
  /** Read some of them: the others are never decoded. */
  readParts<Name extends PartName>(key: string, names: readonly Name[]): Record<Name, string>
  readParts(key: string, names: readonly PartName[] = partNames): Record<string, string> {
    let bytes: Buffer
    try {
      bytes = readFileSync(this.file(key))
    } catch {
      throw new UserError('The build cache in ' + this.dir + ' is damaged (' + key + ' is missing); run the build again with --clean')
    }
    const newline = bytes.indexOf(10, headerBytes.length)
    const current = bytes.subarray(0, headerBytes.length).equals(headerBytes)
    // Format 1 (lengths in characters) is still read: `tagpress dev` serves the previous build's pages, by their old
    // keys, until its first build has compiled them again under the new ones.
    const previous = !current && bytes.subarray(0, formatOneBytes.length).equals(formatOneBytes)
    if (!(current || previous) || newline === -1) {
      throw new UserError('The build cache in ' + this.dir + ' is damaged (' + key + ' is not a cache file); run the build again with --clean')
    }
    let lengths: number[]
    try {
      lengths = JSON.parse(bytes.toString('latin1', headerBytes.length, newline)) as number[]
    } catch {
      throw new UserError('The build cache in ' + this.dir + ' is damaged (' + key + ' has no part lengths); run the build again with --clean')
    }
    const parts: Record<string, string> = {}
    const text = previous ? bytes.toString('utf8', newline + 1) : undefined
    let at = text === undefined ? newline + 1 : 0
    partNames.forEach((name, index) => {
      const length = lengths[index] ?? 0
      if (names.includes(name)) parts[name] = text === undefined ? bytes.toString('utf8', at, at + length) : text.slice(at, at + length)
      at += length
    })
    return parts
  }

  /** Save the index (and the summaries, when they changed), and delete cache files no entry points at. */
  save(): void {
    writeAtomicSync(path.join(this.dir, 'files.json'), JSON.stringify(this.index))
    if (!this.metasChanged || !this.metas) return
    const live = new Set<string>()
    for (const entry of Object.values(this.index.files)) {
      live.add(entry.key)
      if (entry.good) live.add(entry.good)
    }
    const kept: Record<string, CompactMeta> = {}
    for (const key of live) {
      const meta = this.metas[key]
      if (meta) kept[key] = compact(meta)
    }
    writeAtomicSync(path.join(this.dir, 'meta.json'), JSON.stringify(kept))
    this.metasChanged = false
    // Delete the compiles nothing points at any more.
    for (const key of Object.keys(this.metas)) {
      if (live.has(key)) continue
      if (process.env.TAGPRESS_DEBUG_TIMING) process.stderr.write('cache: collect ' + key + '\n')
      rmSync(this.file(key), {force: true})
      delete this.metas[key]
    }
  }
}

/** Summaries as stored: anchors as one space-joined string (slugs and ids have no spaces), which parses much faster. */
type CompactMeta = Omit<CompiledMeta, 'anchors'> & {anchors: string}

function compact(meta: CompiledMeta): CompactMeta {
  return {...meta, anchors: meta.anchors.join(' ')}
}

function readMetas(file: string): Record<string, CompiledMeta> {
  let stored: Record<string, CompactMeta>
  try {
    stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, CompactMeta>
  } catch {
    return {}
  }
  const metas: Record<string, CompiledMeta> = {}
  for (const [key, meta] of Object.entries(stored)) metas[key] = {...meta, anchors: meta.anchors === '' ? [] : meta.anchors.split(' ')}
  return metas
}

function emptyIndex(): CacheIndex {
  return {version: 2, fingerprint: '', files: {}}
}

function readIndex(file: string): CacheIndex {
  try {
    const index = JSON.parse(readFileSync(file, 'utf8')) as CacheIndex
    return index.version === 2 && index.files ? index : emptyIndex()
  } catch {
    // Missing or unreadable: start over (the cache is only ever a shortcut).
    return emptyIndex()
  }
}
