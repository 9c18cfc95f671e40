import {once} from 'node:events'
import {createWriteStream, mkdirSync, readdirSync, renameSync, rmSync} from 'node:fs'
import path from 'node:path'
import type {Writable} from 'node:stream'
import {createGzip} from 'node:zlib'
import {asideName} from '../fs/atomic.js'
import {UserError} from '../errors.js'
import type {Batch, Framing} from './export.js'

export interface SinkProgress {
  records: number
  bytes: number
}

/** Write to a stream, waiting for it to drain when it asks: a slow reader slows the writer, nothing piles up. */
export async function writeWithBackpressure(stream: Writable, data: string | Buffer): Promise<void> {
  if (stream.destroyed) throw new Error('The output was closed')
  if (stream.write(data)) return
  await new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      stream.off('drain', onDrain)
      stream.off('close', onClose)
      stream.off('error', onClose)
    }
    const onDrain = (): void => {
      cleanup()
      resolve()
    }
    const onClose = (): void => {
      cleanup()
      reject(new Error('The output was closed'))
    }
    stream.on('drain', onDrain)
    stream.on('close', onClose)
    stream.on('error', onClose)
  })
}

async function endStream(stream: Writable): Promise<void> {
  if (stream.writableFinished) return
  const finished = Promise.race([once(stream, 'finish'), once(stream, 'error').then(([error]) => {
    throw error
  })])
  stream.end()
  await finished
}

/** Framed output into one stream (a file, stdout, a response), gzip on request. */
export class FramedWriter {
  private first = true
  private readonly target: Writable
  private readonly gzip: ReturnType<typeof createGzip> | undefined
  readonly progress: SinkProgress = {records: 0, bytes: 0}

  constructor(
    private readonly output: Writable,
    private readonly framing: Framing,
    options: {gzip?: boolean} = {}
  ) {
    if (options.gzip) {
      this.gzip = createGzip({level: 3})
      this.gzip.pipe(output)
      this.target = this.gzip
    } else this.target = output
  }

  async begin(): Promise<void> {
    if (this.framing.begin) await this.send(this.framing.begin)
  }

  async write(batch: Batch): Promise<void> {
    this.progress.records += batch.records
    if (batch.raw) {
      await this.send(batch.raw)
      return
    }
    const items = batch.items ?? []
    if (items.length === 0) return
    let text = this.framing.between ? items.join(this.framing.between) : items.join('')
    if (this.framing.between && !this.first) text = this.framing.between + text
    this.first = false
    await this.send(text)
  }

  /** Finish the framing and, for gzip, the compressed stream (the output itself is left open unless `close`). */
  async end(close: boolean): Promise<void> {
    // An empty JSON array is `[]`.
    if (this.framing.end) await this.send(this.first && this.framing.begin ? ']\n' : this.framing.end)
    if (this.gzip) {
      const done = close ? once(this.output, 'finish') : once(this.gzip, 'end')
      this.gzip.end()
      await done
    } else if (close) await endStream(this.output)
  }

  private async send(data: string | Buffer): Promise<void> {
    const length = typeof data === 'string' ? Buffer.byteLength(data) : data.length
    this.progress.bytes += length
    await writeWithBackpressure(this.target, data)
  }
}

/** Stream batches into a file, written aside and renamed into place at the end. */
export async function writeFileAtomically(batches: AsyncIterable<Batch>, file: string, framing: Framing, options: {gzip?: boolean; onBatch?: (progress: SinkProgress) => void} = {}): Promise<SinkProgress> {
  mkdirSync(path.dirname(path.resolve(file)), {recursive: true})
  const aside = asideName(path.resolve(file))
  const stream = createWriteStream(aside)
  const writer = new FramedWriter(stream, framing, options)
  try {
    await writer.begin()
    for await (const batch of batches) {
      await writer.write(batch)
      options.onBatch?.(writer.progress)
    }
    await writer.end(true)
    renameSync(aside, file)
    return writer.progress
  } catch (error) {
    stream.destroy()
    rmSync(aside, {force: true})
    throw error
  }
}

export interface ShardOptions {
  dir: string
  /** File name prefix: the split (`train`). */
  split: string
  /** Records per shard, or bytes per shard (before compression). */
  records?: number
  bytes?: number
  gzip?: boolean
  onBatch?: (progress: SinkProgress) => void
}

/** `train-00000-of-00004.jsonl`: the Hugging Face datasets naming. */
export function shardName(split: string, index: number, count: number, extension: string, gzip: boolean): string {
  return `${split}-${String(index).padStart(5, '0')}-of-${String(count).padStart(5, '0')}.${extension}${gzip ? '.gz' : ''}`
}

/**
 * Stream batches into shards. The shard count is known only at the end, so
 * shards are written under temporary names and renamed when it is; shards
 * of an earlier export with the same split are replaced.
 */
export async function writeShards(batches: AsyncIterable<Batch>, framing: Framing, options: ShardOptions): Promise<{files: string[]; progress: SinkProgress}> {
  const maxRecords = options.records ?? Infinity
  const maxBytes = options.bytes ?? Infinity
  if (!(maxRecords >= 1) || !(maxBytes >= 1)) throw new UserError('--shard-size must be at least 1')
  mkdirSync(options.dir, {recursive: true})
  const temporary: string[] = []
  const total: SinkProgress = {records: 0, bytes: 0}
  let current: {writer: FramedWriter; stream: Writable} | undefined
  let records = 0
  let bytes = 0
  const open = async (): Promise<FramedWriter> => {
    if (current) return current.writer
    const file = path.join(options.dir, '.' + options.split + '-' + temporary.length + '.' + process.pid + '.tmp')
    temporary.push(file)
    const stream = createWriteStream(file)
    current = {writer: new FramedWriter(stream, framing, {gzip: options.gzip === true}), stream}
    await current.writer.begin()
    records = 0
    bytes = 0
    return current.writer
  }
  const close = async (): Promise<void> => {
    if (!current) return
    await current.writer.end(true)
    current = undefined
  }
  try {
    for await (const batch of batches) {
      const items = batch.items ?? (batch.raw ? splitRaw(batch.raw) : [])
      let start = 0
      while (start < items.length) {
        const writer = await open()
        let end = start
        let size = 0
        while (end < items.length && records + (end - start) < maxRecords) {
          const length = Buffer.byteLength(items[end] as string)
          if (bytes + size > 0 && bytes + size + length > maxBytes) break
          size += length
          end++
        }
        if (end === start) {
          // The shard is full.
          await close()
          continue
        }
        await writer.write({items: items.slice(start, end), records: end - start})
        records += end - start
        bytes += size
        total.records += end - start
        total.bytes += size
        start = end
        if (records >= maxRecords || bytes >= maxBytes) await close()
      }
      options.onBatch?.(total)
    }
    if (temporary.length === 0) await open()
    await close()
    const files = temporary.map((_, index) => path.join(options.dir, shardName(options.split, index, temporary.length, framing.extension, options.gzip === true)))
    // The new shards go in first; then shards of a previous export of this split that would mix with them go.
    temporary.forEach((file, index) => renameSync(file, files[index] as string))
    const kept = new Set(files.map((file) => path.basename(file)))
    const pattern = new RegExp('^' + options.split.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '-\\d{5}-of-\\d{5}\\.')
    for (const name of readdirSync(options.dir)) if (pattern.test(name) && !kept.has(name)) rmSync(path.join(options.dir, name), {force: true})
    return {files, progress: total}
  } catch (error) {
    current?.stream.destroy()
    for (const file of temporary) rmSync(file, {force: true})
    throw error
  }
}

function splitRaw(raw: Buffer): string[] {
  const text = raw.toString('utf8')
  const items: string[] = []
  let start = 0
  for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
    items.push(text.slice(start, end + 1))
    start = end + 1
  }
  if (start < text.length) items.push(text.slice(start) + '\n')
  return items
}
