import {createHash} from 'node:crypto'
import {closeSync, fstatSync, openSync, statSync} from 'node:fs'
import {AsideFile} from '../fs/atomic.js'
import {copyRange} from '../fs/copy-range.js'

/** What a concatenated output holds, per source file: enough to reuse bytes next time. */
export interface ConcatState {
  /** `[source, cache key, bytes, records]` in file order. */
  segments: Array<[string, string, number, number]>
  bytes: number
  records: number
  /** Filled in when the manifest needs it (`hashConcat`): a dev-server build that stops early never hashes. */
  sha256?: string
}

/** A file made of one segment per source (a dataset, the search index). */
export interface ConcatTarget {
  name: string
  file: string
  previous?: ConcatState | undefined
}

/** One source's share of every target; `parts` is read only when a segment cannot be reused. */
export interface ConcatSource {
  source: string
  key: string
  include: (target: string) => boolean
  parts: () => Record<string, string>
}

const chunkSize = 1 << 20

/**
 * Write several concatenated outputs in one pass over the sources. A segment
 * whose source and key are unchanged is copied from the previous file (runs
 * of them in one read), so a one-file edit costs a copy, not a rebuild; each
 * file is written aside and renamed into place.
 */
export function writeConcat(targets: ConcatTarget[], sources: readonly ConcatSource[]): Record<string, ConcatState>
/** With `stopping`, asked every few hundred sources: true leaves every target as it was and returns undefined. */
export function writeConcat(targets: ConcatTarget[], sources: readonly ConcatSource[], stopping: () => boolean): Record<string, ConcatState> | undefined
export function writeConcat(targets: ConcatTarget[], sources: readonly ConcatSource[], stopping?: () => boolean): Record<string, ConcatState> | undefined {
  const prepared = stopping ? prepareConcat(targets, sources, stopping) : prepareConcat(targets, sources)
  prepared?.commit()
  return prepared?.states
}

/** Outputs written aside but not yet in place: `commit` renames them all into place, `abort` removes them. */
export interface PreparedConcat {
  states: Record<string, ConcatState>
  commit: () => void
  abort: () => void
}

/**
 * `writeConcat` up to the renames: for outputs that must appear together with others (the card lists with their
 * decks), so that a build stopped in between leaves the previous ones, which its state still describes.
 */
export function prepareConcat(targets: ConcatTarget[], sources: readonly ConcatSource[]): PreparedConcat
export function prepareConcat(targets: ConcatTarget[], sources: readonly ConcatSource[], stopping: () => boolean): PreparedConcat | undefined
export function prepareConcat(targets: ConcatTarget[], sources: readonly ConcatSource[], stopping?: () => boolean): PreparedConcat | undefined {
  const result: Record<string, ConcatState> = {}
  // An output whose segments are all unchanged, in the same order, is left alone.
  const changed = targets.filter((target) => {
    if (unchanged(target, sources)) {
      result[target.name] = target.previous as ConcatState
      return false
    }
    return true
  })
  if (changed.length === 0) return prepared(result, [])
  const stream = new ConcatStream(changed, stopping)
  try {
    let count = 0
    for (const source of sources) {
      if (stopping && ++count % 256 === 0 && stopping()) throw stopped
      stream.add(source)
    }
    const done = stream.prepare()
    Object.assign(done.states, result)
    return done
  } catch (error) {
    stream.abort()
    if (error === stopped) return undefined
    throw error
  }
}

/**
 * Concatenated outputs written aside source by source, as the sources come (the card lists: while the cards are
 * planned, so that no file's whole cards outlive its turn), then renamed into place together (`prepare`).
 */
export class ConcatStream {
  private readonly writers: SegmentWriter[]

  constructor(targets: readonly ConcatTarget[], stopping?: () => boolean) {
    this.writers = []
    try {
      for (const target of targets) this.writers.push(new SegmentWriter(target, stopping))
    } catch (error) {
      this.abort()
      throw error
    }
  }

  /** The source's segment of each output: copied from the previous file when its key is unchanged, else from `parts`. */
  add(source: ConcatSource): void {
    let parts: Record<string, string> | undefined
    for (const writer of this.writers) {
      if (!source.include(writer.target.name)) continue
      if (!writer.reuse(source.source, source.key)) {
        parts ??= source.parts()
        writer.append(source.source, source.key, parts[writer.target.name] ?? '')
      }
    }
  }

  /** Every output written (not hashed: only the manifest needs that, `hashConcat`), ready to be renamed into place. */
  prepare(): PreparedConcat {
    // All copying done (where a stop may still come) before the first file is renamed into place.
    for (const writer of this.writers) writer.flush()
    const states: Record<string, ConcatState> = {}
    for (const writer of this.writers) states[writer.target.name] = writer.state()
    return prepared(states, this.writers)
  }

  abort(): void {
    for (const writer of this.writers) writer.abort()
  }
}

/**
 * Made apart from `prepareConcat`: closures made there would keep its whole scope alive, the sources with their
 * closures (20,000 of them for the card lists at 10,000 files) until the commit.
 */
function prepared(states: Record<string, ConcatState>, writers: readonly SegmentWriter[]): PreparedConcat {
  const abort = (): void => {
    for (const writer of writers) writer.abort()
  }
  const commit = (): void => {
    try {
      for (const writer of writers) writer.commit()
    } catch (error) {
      abort()
      throw error
    }
  }
  return {states, commit, abort}
}

/** Thrown through a splice that `stopping` ends. */
const stopped = new Error('stopped')

/** Bytes written between two questions to `stopping` (a few ms of copying). */
const askEvery = 8 << 20

/** An output's SHA-256, hashed from the file in place the first time it is asked for (then kept in its state). */
export function hashConcat(state: ConcatState, file: string): string {
  if (state.sha256 !== undefined) return state.sha256
  const hash = createHash('sha256')
  const fd = openSync(file, 'r')
  try {
    copyRange(fd, 0, state.bytes, Buffer.allocUnsafe(chunkSize), (data, length) => hash.update(data.subarray(0, length)), file)
  } finally {
    closeSync(fd)
  }
  state.sha256 = hash.digest('hex')
  return state.sha256
}

function unchanged(target: ConcatTarget, sources: readonly ConcatSource[]): boolean {
  const previous = target.previous
  if (!previous) return false
  let at = 0
  for (const source of sources) {
    if (!source.include(target.name)) continue
    const segment = previous.segments[at++]
    if (!segment || segment[0] !== source.source || segment[1] !== source.key) return false
  }
  if (at !== previous.segments.length) return false
  return statSync(target.file, {throwIfNoEntry: false})?.size === previous.bytes
}

class SegmentWriter {
  private readonly out: AsideFile
  private committed = false
  private readonly segments: Array<[string, string, number, number]> = []
  private readonly old = new Map<string, {key: string; offset: number; bytes: number; records: number}>()
  private oldFd: number | undefined
  private bytes = 0
  private records = 0
  private pending: {offset: number; bytes: number} | undefined
  private readonly buffer = Buffer.allocUnsafe(chunkSize)

  private sinceAsked = 0

  constructor(readonly target: ConcatTarget, private readonly stopping?: () => boolean) {
    this.out = new AsideFile(target.file)
    this.openPrevious()
  }

  /** Copy the source's segment from the previous file when its key is unchanged. */
  reuse(source: string, key: string): boolean {
    const old = this.old.get(source)
    if (!old || old.key !== key || this.oldFd === undefined) return false
    if (this.pending && this.pending.offset + this.pending.bytes === old.offset) this.pending.bytes += old.bytes
    else {
      this.flushCopy()
      this.pending = {offset: old.offset, bytes: old.bytes}
    }
    this.segments.push([source, key, old.bytes, old.records])
    this.bytes += old.bytes
    this.records += old.records
    return true
  }

  append(source: string, key: string, text: string): void {
    this.flushCopy()
    const data = Buffer.from(text)
    this.write(data, data.length)
    const records = countLines(text)
    this.segments.push([source, key, data.length, records])
    this.bytes += data.length
    this.records += records
  }

  /** Write what is still to be copied from the previous file (nothing more is reused after). */
  flush(): void {
    this.flushCopy()
    this.old.clear()
  }

  /** Close the file and rename it into place. */
  commit(): void {
    this.flushCopy()
    this.closePrevious()
    this.out.commit()
    this.committed = true
  }

  state(): ConcatState {
    return {segments: this.segments, bytes: this.bytes, records: this.records}
  }

  abort(): void {
    if (this.committed) return
    try {
      this.closePrevious()
    } finally {
      this.out.abort()
    }
  }

  /** Once (a commit whose rename failed is aborted): a second close would close whatever has the number since. */
  private closePrevious(): void {
    const fd = this.oldFd
    this.oldFd = undefined
    if (fd !== undefined) closeSync(fd)
  }

  private openPrevious(): void {
    const previous = this.target.previous
    if (!previous) return
    let fd: number
    try {
      fd = openSync(this.target.file, 'r')
    } catch {
      return
    }
    if (fstatSync(fd).size !== previous.bytes) {
      // Changed behind our back: reuse nothing.
      closeSync(fd)
      return
    }
    this.oldFd = fd
    let offset = 0
    for (const [source, key, bytes, records] of previous.segments) {
      this.old.set(source, {key, offset, bytes, records})
      offset += bytes
    }
  }

  private flushCopy(): void {
    const pending = this.pending
    if (!pending || this.oldFd === undefined) return
    this.pending = undefined
    copyRange(this.oldFd, pending.offset, pending.bytes, this.buffer, (data, length) => this.write(data, length), this.target.file)
  }

  private write(data: Buffer, length: number): void {
    // Most of a one-edit splice is copying what an earlier build wrote: asked about between chunks of it.
    this.sinceAsked += length
    if (this.stopping && this.sinceAsked >= askEvery) {
      this.sinceAsked = 0
      if (this.stopping()) throw stopped
    }
    this.out.write(data, length)
  }
}

function countLines(text: string): number {
  let count = 0
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count++
  return count
}
