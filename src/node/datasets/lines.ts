import {createReadStream} from 'node:fs'
import {open} from 'node:fs/promises'
import {createGunzip} from 'node:zlib'
import {UserError} from '../errors.js'

/** Whether a file name says gzip. */
export function isGzip(file: string): boolean {
  return /\.gz$/i.test(file)
}

export interface ChunkOptions {
  /** Bytes per read (the first read is smaller, so the first records leave early). */
  chunkSize?: number
  /** Counts the bytes read from disk (compressed bytes for `.gz`). */
  onRead?: (bytes: number) => void
}

/**
 * The bytes of a file, chunk by chunk, in constant memory: plain files with
 * large positional reads, `.gz` files through gunzip. Every chunk is a new
 * buffer the caller may keep.
 */
export async function* readChunks(file: string, options: ChunkOptions = {}): AsyncGenerator<Buffer> {
  const chunkSize = options.chunkSize ?? 1 << 20
  if (isGzip(file)) {
    const stream = createReadStream(file, {highWaterMark: Math.min(chunkSize, 1 << 16)})
    if (options.onRead) stream.on('data', (data) => options.onRead?.((data as Buffer).length))
    const gunzip = stream.pipe(createGunzip({chunkSize: Math.min(chunkSize, 1 << 16)}))
    stream.on('error', (error) => gunzip.destroy(error))
    try {
      for await (const chunk of gunzip) yield chunk as Buffer
    } catch (error) {
      throw new UserError(file + ': not a readable gzip file (' + (error as Error).message + ')')
    } finally {
      stream.destroy()
      gunzip.destroy()
    }
    return
  }
  let handle
  try {
    handle = await open(file, 'r')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new UserError(code === 'ENOENT' ? 'No such file: ' + file : file + ': ' + (error as Error).message)
  }
  // One read ahead: the disk works while the caller handles the chunk before (one more chunk in memory).
  const opened = handle
  const read = (size: number): Promise<Buffer> => {
    const buffer = Buffer.allocUnsafe(size)
    return opened.read(buffer, 0, size, null).then(({bytesRead}) => (bytesRead === size ? buffer : buffer.subarray(0, bytesRead)))
  }
  let next: Promise<Buffer> | undefined = read(Math.min(chunkSize, 1 << 16))
  try {
    for (;;) {
      const chunk: Buffer = await next
      next = undefined
      if (chunk.length === 0) return
      options.onRead?.(chunk.length)
      next = read(chunkSize)
      yield chunk
    }
  } finally {
    // A read still running when the caller stops must end before the file closes.
    await next?.catch(() => {})
    await handle.close()
  }
}

/** A line of a file: its text (without `\n` or `\r`), its number from 1, its byte offset and length (plain files). */
export interface Line {
  text: string
  number: number
}

/**
 * Lines of a file in batches of about `batchSize` bytes, without loading the
 * file: a line split across reads is carried over as bytes, so multi-byte
 * characters are never cut. Reads are large (a read has a fixed cost); the
 * text decoded at once is small (less garbage alive, faster slices).
 */
export async function* readLineBatches(file: string, options: ChunkOptions & {batchSize?: number} = {}): AsyncGenerator<{lines: string[]; first: number}> {
  const batchSize = options.batchSize ?? 1 << 16
  let carry: Buffer | undefined
  let number = 1
  for await (const chunk of readChunks(file, options)) {
    let start = 0
    for (;;) {
      let end = start + batchSize < chunk.length ? chunk.indexOf(10, start + batchSize) : -1
      if (end === -1) end = chunk.lastIndexOf(10)
      if (end < start) break
      const piece = chunk.subarray(start, end + 1)
      const head = carry ? Buffer.concat([carry, piece]) : piece
      carry = undefined
      const lines = splitLines(head.toString('utf8'))
      yield {lines, first: number}
      number += lines.length
      start = end + 1
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start)
      carry = carry ? Buffer.concat([carry, rest]) : Buffer.from(rest)
    }
  }
  if (carry && carry.length > 0) {
    const lines = splitLines(carry.toString('utf8') + '\n')
    yield {lines, first: number}
  }
}

/** Split text that ends with `\n` into its lines, dropping a `\r` before each `\n`. */
function splitLines(text: string): string[] {
  const lines: string[] = []
  let start = 0
  for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
    lines.push(text.charCodeAt(end - 1) === 13 && end > start ? text.slice(start, end - 1) : text.slice(start, end))
    start = end + 1
  }
  return lines
}

/** Whether a line holds nothing but whitespace. */
export function isBlank(line: string): boolean {
  return line.length === 0 || line.trim().length === 0
}

/** Parse one JSON object line, or fail with the file and line number. */
export function parseRecord(line: string, file: string, number: number): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch (error) {
    throw new UserError(`${file}:${number}: not valid JSON (${(error as Error).message})`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UserError(`${file}:${number}: not a JSON object`)
  return value as Record<string, unknown>
}
