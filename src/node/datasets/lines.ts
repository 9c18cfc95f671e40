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
  try {
    let size = Math.min(chunkSize, 1 << 16)
    for (;;) {
      const buffer = Buffer.allocUnsafe(size)
      const {bytesRead} = await handle.read(buffer, 0, size, null)
      if (bytesRead === 0) return
      options.onRead?.(bytesRead)
      yield bytesRead === size ? buffer : buffer.subarray(0, bytesRead)
      size = chunkSize
    }
  } finally {
    await handle.close()
  }
}

/** A line of a file: its text (without `\n` or `\r`), its number from 1, its byte offset and length (plain files). */
export interface Line {
  text: string
  number: number
}

/**
 * Lines of a file in batches (one batch per chunk read), without loading the
 * file: a line split across chunks is carried over as bytes, so multi-byte
 * characters are never cut.
 */
export async function* readLineBatches(file: string, options: ChunkOptions = {}): AsyncGenerator<{lines: string[]; first: number}> {
  let carry: Buffer | undefined
  let number = 1
  for await (const chunk of readChunks(file, options)) {
    const last = chunk.lastIndexOf(10)
    if (last === -1) {
      carry = carry ? Buffer.concat([carry, chunk]) : chunk
      continue
    }
    const head = carry ? Buffer.concat([carry, chunk.subarray(0, last + 1)]) : chunk.subarray(0, last + 1)
    carry = last + 1 < chunk.length ? Buffer.from(chunk.subarray(last + 1)) : undefined
    const text = head.toString('utf8')
    const lines = splitLines(text)
    yield {lines, first: number}
    number += lines.length
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
