import path from 'node:path'
import {SegmentFileWriter, sameSegments, type FileState} from './segments.js'

/** Where the LitGPT corpora go, relative to the out folder. */
export const litgptDir = 'datasets/litgpt'

/** `[bytes, records, tokens, max tokens of a record, records over the context length]` of one source in one stream. */
export type StreamStat = [number, number, number, number, number]

export function isText(stream: string): boolean {
  return stream === 'text/train' || stream === 'text/val'
}

/**
 * The files of a corpus, built source by source in build order: each JSONL
 * stream is one file of every source's share in order; text streams are packed
 * into parts of about `textFileBytes`, a source's share never split.
 */
export class LayoutBuilder {
  private readonly byName = new Map<string, FileState>()
  private readonly parts = new Map<string, {part: number; bytes: number}>()

  constructor(
    private readonly textFileBytes: number,
    /** Hashes of the files, when known (a previous build's). */
    private readonly known?: Record<string, {sha256: string}>
  ) {}

  /** Add a source's share of one stream (with records); returns the file it goes into. */
  add(source: string, segmentKey: string, stream: string, [bytes, records, tokens, maxTokens, over]: StreamStat): string {
    let file: string
    if (isText(stream)) {
      let packing = this.parts.get(stream)
      if (!packing) {
        packing = {part: 0, bytes: 0}
        this.parts.set(stream, packing)
      }
      if (packing.bytes > 0 && packing.bytes + bytes > this.textFileBytes) {
        packing.part++
        packing.bytes = 0
      }
      packing.bytes += bytes
      file = litgptDir + '/' + stream + '/part-' + String(packing.part).padStart(5, '0') + '.txt'
    } else file = litgptDir + '/' + stream
    let state = this.byName.get(file)
    if (!state) {
      state = {stream, segments: [], bytes: 0, records: 0, sha256: this.known?.[file]?.sha256 ?? '', tokens: 0, maxTokens: 0, over: 0}
      this.byName.set(file, state)
    }
    state.segments.push([source, segmentKey, bytes, records])
    state.bytes += bytes
    state.records += records
    state.tokens += tokens
    state.maxTokens = Math.max(state.maxTokens, maxTokens)
    state.over += over
    return file
  }

  /** The files so far, by name. */
  get files(): ReadonlyMap<string, FileState> {
    return this.byName
  }

  /** The files, in stream order (JSONL streams, then text parts), whatever order the sources filled them in. */
  layout(streams: readonly string[]): Map<string, FileState> {
    const rank = new Map(streams.map((stream, index) => [stream, index]))
    return new Map([...this.byName].sort((a, b) => (rank.get(a[1].stream) as number) - (rank.get(b[1].stream) as number) || (a[0] < b[0] ? -1 : 1)))
  }
}

/**
 * A first build (no previous state, or new settings) converts every source
 * while it summarizes them: their shares are written there and then, as the
 * split's threshold rule alone places them. Unless a split decision had to be
 * forced (a kind with one record, or with none on one side; pretraining
 * validation topped up), those are the final files, and no source is
 * converted a second time to write them.
 */
export class SpeculativeFiles {
  private readonly builder: LayoutBuilder
  private readonly writers = new Map<string, SegmentFileWriter>()
  /** Each text stream's part being written: the earlier ones are finished, so only a few files are open at once. */
  private readonly openPart = new Map<string, string>()
  private readonly hashes = new Map<string, string>()

  constructor(
    private readonly outDir: string,
    textFileBytes: number
  ) {
    this.builder = new LayoutBuilder(textFileBytes)
  }

  /** A source's share of each stream, in stream order; `key` is its compile's key. */
  add(source: string, key: string, shares: ReadonlyArray<[stream: string, stat: StreamStat, text: string]>): void {
    for (const [stream, stat, text] of shares) {
      if (stat[1] === 0) continue
      const file = this.builder.add(source, key, stream, stat)
      if (isText(stream)) {
        const open = this.openPart.get(stream)
        if (open !== undefined && open !== file) this.hashes.set(open, (this.writers.get(open) as SegmentFileWriter).finish())
        this.openPart.set(stream, file)
      }
      let writer = this.writers.get(file)
      if (!writer) {
        writer = new SegmentFileWriter(path.join(this.outDir, file))
        this.writers.set(file, writer)
      }
      writer.append(text)
    }
  }

  /**
   * The writers, ready to be committed, if what was written is `layout` (the same files holding the same segments),
   * with each file's SHA-256 set in `layout`; else undefined, and nothing is left behind.
   */
  finish(layout: ReadonlyMap<string, FileState>): SegmentFileWriter[] | undefined {
    const written = this.builder.files
    const same = written.size === layout.size && [...layout].every(([file, state]) => {
      const mine = written.get(file)
      return mine !== undefined && mine.stream === state.stream && sameSegments(mine.segments, state.segments) && this.writers.get(file)?.bytes === state.bytes
    })
    if (!same) {
      this.abort()
      return undefined
    }
    for (const [file, writer] of this.writers) if (!this.hashes.has(file)) this.hashes.set(file, writer.finish())
    for (const [file, state] of layout) state.sha256 = this.hashes.get(file) as string
    return [...this.writers.values()]
  }

  abort(): void {
    for (const writer of this.writers.values()) writer.abort()
    this.writers.clear()
  }
}
