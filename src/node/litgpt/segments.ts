import {createHash, type Hash} from 'node:crypto'
import {closeSync, fstatSync, openSync, statSync} from 'node:fs'
import path from 'node:path'
import {AsideFile} from '../fs/atomic.js'
import {copyRange} from '../fs/copy-range.js'

/** One source's share of an output file: `[source, segment key, bytes, records]`. */
export type Segment = [string, string, number, number]

/** An output file as the state remembers it. */
export interface FileState {
  /** The logical stream the file belongs to (a JSONL file is its own; text parts share `text/train` or `text/val`). */
  stream: string
  segments: Segment[]
  bytes: number
  records: number
  sha256: string
  tokens: number
  maxTokens: number
  /** Records over the context length. */
  over: number
}

interface Located {
  file: string
  offset: number
  bytes: number
}

/**
 * The previous build's files, as a source of bytes to copy: a segment whose
 * source and key are unchanged is copied from wherever it was, even from
 * another part of the same stream. New files are renamed into place only
 * after every file is written, so the old ones are whole while they are read.
 */
export class PreviousFiles {
  private readonly index = new Map<string, Located>()
  private readonly fds = new Map<string, number | null>()
  /** Descriptors with copies not yet done, and how many. */
  readonly pinned = new Map<number, number>()

  pin(fd: number): void {
    this.pinned.set(fd, (this.pinned.get(fd) ?? 0) + 1)
  }

  unpin(fd: number): void {
    const count = (this.pinned.get(fd) ?? 1) - 1
    if (count <= 0) this.pinned.delete(fd)
    else this.pinned.set(fd, count)
  }

  constructor(
    private readonly outDir: string,
    private readonly files: Record<string, FileState>
  ) {
    for (const [file, state] of Object.entries(files)) {
      let offset = 0
      for (const [source, key, bytes] of state.segments) {
        this.index.set(state.stream + '\0' + source + '\0' + key, {file, offset, bytes})
        offset += bytes
      }
    }
  }

  /** Whether a previous file is still there, whole (its size is what the state says). */
  intact(file: string): boolean {
    return statSync(path.join(this.outDir, file), {throwIfNoEntry: false})?.size === this.files[file]?.bytes
  }

  /** Where the bytes of a segment are, if they can be copied. */
  locate(stream: string, source: string, key: string): {fd: number; offset: number; bytes: number} | undefined {
    const located = this.index.get(stream + '\0' + source + '\0' + key)
    if (!located) return undefined
    const fd = this.fd(located.file)
    return fd === null ? undefined : {fd, offset: located.offset, bytes: located.bytes}
  }

  close(): void {
    for (const fd of this.fds.values()) if (fd !== null) closeSync(fd)
    this.fds.clear()
  }

  private fd(file: string): number | null {
    let fd = this.fds.get(file)
    if (fd !== undefined) {
      // Most recently used last.
      this.fds.delete(file)
      this.fds.set(file, fd)
      return fd
    }
    // Files are read in stream order: a few open at a time is enough, whatever the number of parts
    // (never one a writer still has a pending copy from).
    if (this.fds.size >= 64) {
      for (const [oldFile, oldFd] of this.fds) {
        if (oldFd !== null && this.pinned.has(oldFd)) continue
        if (oldFd !== null) closeSync(oldFd)
        this.fds.delete(oldFile)
        break
      }
    }
    fd = null
    try {
      const opened = openSync(path.join(this.outDir, file), 'r')
      if (fstatSync(opened).size === this.files[file]?.bytes) fd = opened
      else closeSync(opened)
    } catch {
      fd = null
    }
    this.fds.set(file, fd)
    return fd
  }
}

const chunkSize = 1 << 20

/** Writes one output file aside: appended text and copied ranges, hashed as written; `commit` renames it into place. */
export class SegmentFileWriter {
  private readonly out: AsideFile
  private readonly hash: Hash = createHash('sha256')
  private pending: {fd: number; offset: number; bytes: number} | undefined
  private buffer: Buffer | undefined
  bytes = 0

  constructor(
    readonly file: string,
    private readonly source?: PreviousFiles
  ) {
    this.out = new AsideFile(file)
  }

  append(text: string): void {
    if (text === '') return
    this.flushCopy()
    const data = Buffer.from(text)
    this.write(data, data.length)
  }

  /** Copy a byte range of another file (runs of adjacent ranges are copied in one go). */
  copy(fd: number, offset: number, bytes: number): void {
    if (bytes === 0) return
    if (this.pending && this.pending.fd === fd && this.pending.offset + this.pending.bytes === offset) this.pending.bytes += bytes
    else {
      this.flushCopy()
      this.pending = {fd, offset, bytes}
      this.source?.pin(fd)
    }
  }

  /** Close the aside file; returns its SHA-256. */
  finish(): string {
    this.flushCopy()
    this.out.close()
    return this.hash.digest('hex')
  }

  commit(): void {
    this.out.commit()
  }

  /** Also after `finish` (a build stopped for a newer edit): the file is closed once. */
  abort(): void {
    this.out.abort()
  }

  private flushCopy(): void {
    const pending = this.pending
    if (!pending) return
    this.pending = undefined
    this.source?.unpin(pending.fd)
    this.buffer ??= Buffer.allocUnsafe(chunkSize)
    copyRange(pending.fd, pending.offset, pending.bytes, this.buffer, (data, length) => this.write(data, length), 'a previous LitGPT file')
  }

  private write(data: Buffer, length: number): void {
    this.hash.update(length === data.length ? data : data.subarray(0, length))
    this.out.write(data, length)
    this.bytes += length
  }
}

export function sameSegments(a: readonly Segment[], b: readonly Segment[]): boolean {
  if (a.length !== b.length) return false
  for (let index = 0; index < a.length; index++) {
    const x = a[index] as Segment
    const y = b[index] as Segment
    if (x[0] !== y[0] || x[1] !== y[1] || x[2] !== y[2] || x[3] !== y[3]) return false
  }
  return true
}
