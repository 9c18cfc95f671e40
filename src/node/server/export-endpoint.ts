import {createHash, timingSafeEqual} from 'node:crypto'
import {existsSync} from 'node:fs'
import type {IncomingMessage, ServerResponse} from 'node:http'
import path from 'node:path'
import {Readable, Transform, pipeline} from 'node:stream'
import {createGzip} from 'node:zlib'
import type {Config} from '../config/types.js'
import {UserError} from '../errors.js'
import {checkDataset, checkFormat, exportBatches, exportFiles, framing, type Batch} from '../datasets/export.js'
import {filterKeys, parseFilter, type Filter} from '../datasets/filters.js'
import {textSeparator} from '../datasets/tokens.js'

export interface ExportEndpointOptions {
  /** The out folder whose `datasets/` are served. */
  out: string
  /** The combined datasets (`litgpt`, `text`) take these kinds (default: all three). */
  kinds?: Config['litgpt']['kinds']
  /** `litgpt.tokenizer`, for the text separator. */
  tokenizer?: string
  /** Require `Authorization: Bearer <token>` (the server is bound to something other than localhost). */
  requireToken?: boolean
  /** `server.token` / `TAGPRESS_TOKEN`. */
  token?: string
  /** URL prefix (default `/api/export/`). */
  prefix?: string
  /** Bytes per read from disk (default 64 KB: the first records leave as soon as they are read). */
  chunkSize?: number
}

/** Counters of the handler, for tests, benchmarks and a status page. */
export interface ExportEndpointStats {
  requests: number
  /** Responses being streamed now. */
  active: number
  completed: number
  /** Responses whose client went away before the end. */
  aborted: number
  /** Bytes read from disk and bytes handed to sockets, over all requests. */
  bytesRead: number
  bytesSent: number
}

export type ExportHandler = ((request: IncomingMessage, response: ServerResponse) => boolean) & {stats: ExportEndpointStats}

/**
 * `GET /api/export/<dataset>.jsonl?chapter=1.2&file=guide/*&tag=x&format=alpaca`:
 * the dataset as `application/x-ndjson`, chunked, one record a line as soon
 * as it is read. The response is a pipeline from the file: a slow client
 * makes the reading wait (nothing piles up in memory), and a client that goes
 * away ends the reading and closes the file. Filters are the query keys of
 * `tagpress export --filter` (repeat a key for alternatives; `filter=key=value`
 * also works); `format` is `jsonl`, `alpaca`, `chat`, `json` or `text`;
 * `gzip=1` compresses (`Content-Encoding: gzip`).
 *
 * Returns `true` when the request was for the endpoint (and is answered).
 */
export function createExportHandler(options: ExportEndpointOptions): ExportHandler {
  const prefix = options.prefix ?? '/api/export/'
  const stats: ExportEndpointStats = {requests: 0, active: 0, completed: 0, aborted: 0, bytesRead: 0, bytesSent: 0}
  const expected = options.token ? digest(options.token) : undefined
  const separator = textSeparator(options.tokenizer)

  const handler = (request: IncomingMessage, response: ServerResponse): boolean => {
    const url = new URL(request.url ?? '/', 'http://localhost')
    if (!url.pathname.startsWith(prefix)) return false
    stats.requests++
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      fail(response, 405, 'Use GET', {allow: 'GET, HEAD'})
      return true
    }
    if (options.requireToken) {
      if (!expected) {
        fail(response, 403, 'The export endpoint needs a token when the server is not bound to localhost: set server.token or TAGPRESS_TOKEN')
        return true
      }
      const header = request.headers.authorization ?? ''
      const match = /^Bearer\s+(.+)$/i.exec(header)
      if (!match || !timingSafeEqual(digest((match[1] as string).trim()), expected)) {
        fail(response, 401, 'A bearer token is required: Authorization: Bearer <server.token>', {'www-authenticate': 'Bearer realm="tagpress"'})
        return true
      }
    }

    let batches: AsyncGenerator<Batch>
    let frame: ReturnType<typeof framing>
    let gzip: boolean
    try {
      const name = decodeURIComponent(url.pathname.slice(prefix.length))
      const match = /^([a-z]+)\.jsonl?$/.exec(name)
      if (!match) throw new UserError('Ask for /api/export/<blocks|chapters|qa|litgpt|text>.jsonl')
      const dataset = checkDataset(match[1])
      const format = checkFormat(url.searchParams.get('format') ?? undefined, dataset)
      const filters: Filter[] = []
      for (const [key, value] of url.searchParams) {
        if (key === 'filter') filters.push(parseFilter(value))
        else if ((filterKeys as readonly string[]).includes(key)) filters.push(parseFilter(key + '=' + value))
        else if (key !== 'format' && key !== 'gzip') throw new UserError('Unknown query key `' + key + '`: filters are ' + filterKeys.join(', ') + '; also format and gzip')
      }
      gzip = url.searchParams.get('gzip') === '1'
      const datasetsDir = path.join(options.out, 'datasets')
      const missing = exportFiles(datasetsDir, dataset, options.kinds ?? ['qa', 'blocks', 'chapters']).find((file) => !existsSync(file))
      if (missing) {
        fail(response, 404, 'No ' + path.basename(missing) + ' yet: build the site first')
        return true
      }
      frame = framing(format)
      batches = exportBatches({
        datasetsDir,
        dataset,
        filters,
        format,
        kinds: options.kinds ?? ['qa', 'blocks', 'chapters'],
        separator,
        chunkSize: options.chunkSize ?? 1 << 16,
        onRead: (bytes) => {
          stats.bytesRead += bytes
        }
      })
    } catch (error) {
      if (error instanceof UserError) fail(response, 400, error.message)
      else fail(response, 500, 'Internal error')
      return true
    }

    response.writeHead(200, {
      'content-type': frame.contentType,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...(gzip ? {'content-encoding': 'gzip'} : {})
    })
    if (request.method === 'HEAD') {
      void batches.return(undefined)
      response.end()
      return true
    }
    // Headers leave now, before the first read: the client knows at once that the stream is coming.
    response.flushHeaders()

    stats.active++
    const source = Readable.from(framed(batches, frame), {objectMode: false, highWaterMark: 1})
    const count = new Transform({
      highWaterMark: 1,
      transform(chunk: Buffer, _encoding, callback) {
        stats.bytesSent += chunk.length
        callback(null, chunk)
      }
    })
    const done = (error: NodeJS.ErrnoException | null): void => {
      stats.active--
      if (!error) {
        stats.completed++
        return
      }
      stats.aborted++
      if (error instanceof UserError && !response.headersSent) fail(response, 500, error.message)
      else response.destroy()
    }
    if (gzip) pipeline(source, count, createGzip({level: 3}), response, done)
    else pipeline(source, count, response, done)
    return true
  }
  return Object.assign(handler, {stats})
}

/** Batches as framed buffers: one per batch read, so each leaves as soon as its records are read. */
async function* framed(batches: AsyncGenerator<Batch>, frame: ReturnType<typeof framing>): AsyncGenerator<Buffer> {
  let first = true
  try {
    if (frame.begin) yield Buffer.from(frame.begin)
    for await (const batch of batches) {
      if (batch.raw) {
        yield batch.raw
        continue
      }
      const items = batch.items ?? []
      if (items.length === 0) continue
      const text = (frame.between && !first ? frame.between : '') + items.join(frame.between)
      first = false
      yield Buffer.from(text)
    }
    if (frame.end) yield Buffer.from(first && frame.begin ? ']\n' : frame.end)
  } finally {
    await batches.return(undefined)
  }
}

function fail(response: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  if (response.headersSent) {
    response.destroy()
    return
  }
  response.writeHead(status, {'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers})
  response.end(JSON.stringify({error: message}) + '\n')
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}
