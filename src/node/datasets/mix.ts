import {closeSync, openSync, readSync, statSync} from 'node:fs'
import {UserError} from '../errors.js'
import type {Batch} from './export.js'
import {isBlank, isGzip, parseRecord, readChunks, readLineBatches} from './lines.js'
import {randomBelow, seededRandom} from './random.js'

export interface MixSource {
  file: string
  /** Records to take; undefined: all of them. */
  count?: number
}

export interface MixOptions {
  sources: readonly MixSource[]
  seed: number
  /** Take every record of a source that has fewer than asked, instead of failing. */
  allowShort?: boolean
  onProgress?: (lines: number) => void
}

/** `A.jsonl:5000` → `{file: 'A.jsonl', count: 5000}`; `A.jsonl` alone takes every record. */
export function parseMixSource(spec: string): MixSource {
  const match = /^(.+):(\d+)$/.exec(spec)
  if (match) {
    const count = Number(match[2])
    if (!Number.isSafeInteger(count)) throw new UserError('`' + spec + '`: the count is too large')
    return {file: match[1] as string, count}
  }
  if (/:[^/\\]*$/.test(spec) && !statSync(spec, {throwIfNoEntry: false})) throw new UserError('`' + spec + '`: write a source as FILE:COUNT, like data.jsonl:5000')
  return {file: spec}
}

/** The sample of one source: byte ranges in a plain file, or the lines themselves for gzip. */
interface Sample {
  file: string
  kept: number
  offsets: Float64Array
  lengths: Uint32Array
  lines?: string[]
  seen: number
}

/**
 * Sample each source uniformly without loading it (reservoir sampling,
 * Algorithm R: memory holds the offsets of the chosen lines, not the
 * lines), check that every line is a JSON object, then give the chosen
 * lines of all sources in one seeded shuffle. Deterministic for a seed.
 */
export async function* mixBatches(options: MixOptions): AsyncGenerator<Batch> {
  if (options.sources.length === 0) throw new UserError('Name at least one source: tagpress mix A.jsonl:5000 B.jsonl:5000')
  const samples: Sample[] = []
  let scanned = 0
  for (const [index, source] of options.sources.entries()) {
    const random = seededRandom(options.seed, index, 1)
    const sample = isGzip(source.file)
      ? await sampleLines(source, random, () => options.onProgress?.(++scanned))
      : await sampleOffsets(source, random, () => options.onProgress?.(++scanned))
    if (source.count !== undefined && sample.seen < source.count && !options.allowShort) {
      throw new UserError(`${source.file} has ${sample.seen} record${sample.seen === 1 ? '' : 's'}, fewer than the ${source.count} asked for (pass --allow-short to take them all)`)
    }
    samples.push(sample)
  }

  // One shuffle of every chosen line: position → (source, slot).
  const total = samples.reduce((sum, sample) => sum + sample.kept, 0)
  const order = new Uint32Array(total)
  const starts: number[] = []
  let at = 0
  for (const sample of samples) {
    starts.push(at)
    at += sample.kept
  }
  for (let index = 0; index < total; index++) order[index] = index
  const random = seededRandom(options.seed, options.sources.length, 2)
  for (let index = total - 1; index > 0; index--) {
    const other = randomBelow(random, index + 1)
    const value = order[index] as number
    order[index] = order[other] as number
    order[other] = value
  }

  const fds = samples.map((sample) => (sample.lines ? -1 : openSync(sample.file, 'r')))
  try {
    let buffer = Buffer.allocUnsafe(1 << 20)
    let used = 0
    let records = 0
    for (let position = 0; position < total; position++) {
      const item = order[position] as number
      let source = samples.length - 1
      while ((starts[source] as number) > item) source--
      const sample = samples[source] as Sample
      const slot = item - (starts[source] as number)
      // A kept line (compressed sources) or a byte range to read back (plain files), plus its newline.
      const line = sample.lines ? (sample.lines[slot] as string) + '\n' : undefined
      const length = line !== undefined ? Buffer.byteLength(line) : (sample.lengths[slot] as number) + 1
      if (used + length > buffer.length) {
        if (used > 0) {
          yield {raw: buffer.subarray(0, used), records}
          buffer = Buffer.allocUnsafe(Math.max(1 << 20, length))
          used = 0
          records = 0
        } else buffer = Buffer.allocUnsafe(length)
      }
      if (line !== undefined) used += buffer.write(line, used)
      else {
        readFully(fds[source] as number, buffer, used, length - 1, sample.offsets[slot] as number)
        buffer[used + length - 1] = 10
        used += length
      }
      records++
    }
    if (used > 0) yield {raw: buffer.subarray(0, used), records}
  } finally {
    for (const fd of fds) if (fd >= 0) closeSync(fd)
  }
}

function readFully(fd: number, buffer: Buffer, offset: number, length: number, position: number): void {
  let done = 0
  while (done < length) {
    const read = readSync(fd, buffer, offset + done, length - done, position + done)
    if (read === 0) throw new UserError('A mix source changed while it was being read')
    done += read
  }
}

/** Algorithm R over a plain file, keeping byte ranges. */
async function sampleOffsets(source: MixSource, random: () => number, tick: () => void): Promise<Sample> {
  const want = source.count
  let capacity = want === undefined ? 1024 : Math.min(want, 1 << 16)
  let offsets = new Float64Array(capacity)
  let lengths = new Uint32Array(capacity)
  let kept = 0
  let seen = 0
  let lineNumber = 0
  let position = 0
  let carry: Buffer | undefined
  let carryStart = 0
  const take = (line: Buffer, start: number, end: number, offset: number): void => {
    lineNumber++
    tick()
    let stop = end
    if (stop > start && line[stop - 1] === 13) stop--
    // Blank lines are skipped, not counted.
    let blank = true
    for (let index = start; index < stop; index++) {
      const byte = line[index] as number
      if (byte !== 32 && byte !== 9) {
        blank = false
        break
      }
    }
    if (blank) return
    parseRecord(line.toString('utf8', start, stop), source.file, lineNumber)
    const slot = want === undefined || seen < want ? seen : randomBelow(random, seen + 1)
    seen++
    if (want !== undefined && slot >= want) return
    if (slot >= capacity) {
      capacity = want === undefined ? capacity * 2 : Math.min(want, capacity * 2)
      const grownOffsets = new Float64Array(capacity)
      grownOffsets.set(offsets)
      offsets = grownOffsets
      const grownLengths = new Uint32Array(capacity)
      grownLengths.set(lengths)
      lengths = grownLengths
    }
    offsets[slot] = offset
    lengths[slot] = stop - start
    if (slot >= kept) kept = slot + 1
  }
  for await (const chunk of readChunks(source.file, {chunkSize: 1 << 16})) {
    let start = 0
    let end = chunk.indexOf(10)
    if (carry && end !== -1) {
      const joined = Buffer.concat([carry, chunk.subarray(0, end)])
      take(joined, 0, joined.length, carryStart)
      carry = undefined
      start = end + 1
      end = chunk.indexOf(10, start)
    }
    while (end !== -1) {
      take(chunk, start, end, position + start)
      start = end + 1
      end = chunk.indexOf(10, start)
    }
    if (start < chunk.length) {
      if (carry) carry = Buffer.concat([carry, chunk.subarray(start)])
      else {
        carry = Buffer.from(chunk.subarray(start))
        carryStart = position + start
      }
    }
    position += chunk.length
  }
  if (carry && carry.length > 0) take(carry, 0, carry.length, carryStart)
  return {file: source.file, kept: Math.min(kept, seen), offsets, lengths, seen}
}

/** Algorithm R over a compressed file, keeping the lines themselves. */
async function sampleLines(source: MixSource, random: () => number, tick: () => void): Promise<Sample> {
  const want = source.count
  const lines: string[] = []
  let seen = 0
  for await (const batch of readLineBatches(source.file)) {
    for (let index = 0; index < batch.lines.length; index++) {
      tick()
      const line = batch.lines[index] as string
      if (isBlank(line)) continue
      parseRecord(line, source.file, batch.first + index)
      const slot = want === undefined || seen < want ? seen : randomBelow(random, seen + 1)
      seen++
      if (want === undefined || slot < want) lines[slot] = line
    }
  }
  return {file: source.file, kept: lines.length, offsets: new Float64Array(0), lengths: new Uint32Array(0), lines, seen}
}
