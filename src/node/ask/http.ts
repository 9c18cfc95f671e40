import {isLoopbackHost} from '../server/loopback.js'
import {timingSafeEqual} from 'node:crypto'
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {Config} from '../config/types.js'
import type {BackendCheck, ModelBackend} from './backend.js'
import {AskEngine, AskError, type EngineLimits, type StreamSink} from './engine.js'
import {isId} from './ids.js'
import {openStore} from './store.js'
import type {ConversationStore, NodeDoc} from './types.js'

/** A request handler, as `serve` and the dev server mount them: returns whether it answered. */
export type Handler = (request: IncomingMessage, response: ServerResponse) => boolean | Promise<boolean>

/** Asks (ask, reply, recall) per client address and minute, unless configured otherwise. */
export const ASK_RATE_LIMIT_PER_MINUTE = 30
/** Largest request body, in bytes. */
export const ASK_BODY_LIMIT_BYTES = 16 * 1024
/** SSE comment sent this often to keep proxies from closing an idle stream (ms). */
const pingMs = 15_000

export interface AskApiOptions {
  store?: ConversationStore
  backend?: ModelBackend
  /** Drafts can be asked about (the dev server). */
  drafts?: boolean
  limits?: Partial<EngineLimits>
  /** Asks per client address per window (default 30 per 60 s). */
  rateLimit?: {max: number; windowMs: number}
  bodyLimit?: number
  /** Require a bearer token (default: when `server.host` is not a loopback address). */
  requireToken?: boolean
  token?: string
  /** Messages for the terminal (start-up check, sweeps); default: standard error. */
  log?: (message: string) => void
  /** Check the backend at start and log what to do when it is not ready (default true). */
  check?: boolean
}

export interface AskApi {
  handler: Handler
  /** Resolves when the engine has started (store open, orphaned streams failed). */
  ready: Promise<AskEngine>
  close(): Promise<void>
}

/**
 * The ask engine's HTTP API, shared by `tagpress dev` and `tagpress serve`
 * (mounted before the static files). Routes, all JSON except the stream:
 *
 *   POST   /api/sessions              {title?, page?, ephemeral?}        → 201 {session}
 *   GET    /api/sessions[?ephemeral=1]                                   → {sessions}
 *   PATCH  /api/sessions/:id          {title}                            → {session}
 *   DELETE /api/sessions/:id                                             → {deleted}
 *   POST   /api/ask                   {session_id?, page, question, scope?, ephemeral?} → 201 {node_id, session_id, node}
 *   GET    /api/nodes/:id                                                → {node}
 *   GET    /api/nodes/:id/stream      (Server-Sent Events, see docs/ask.md)
 *   POST   /api/nodes/:id/reply       {question, page?, scope?}          → 201 {node_id, session_id, node}
 *   POST   /api/nodes/:id/recall                                         → {node_id, session_id, node}
 *   POST   /api/nodes/:id/stop                                           → {node}
 *   GET    /api/trees/:session_id                                        → {session, nodes, tree}
 *   GET    /api/ask/status                                               → the backend check
 *
 * Errors are `{"error": "<sentence>", "code": "<code>"}` with a status code.
 */
export function createAskApi(config: Config, options: AskApiOptions = {}): AskApi {
  const log = options.log ?? ((message: string) => void process.stderr.write('tagpress: ask: ' + message + '\n'))
  const requireToken = options.requireToken ?? !isLoopbackHost(config.server.host)
  const token = options.token ?? config.server.token
  const bodyLimit = options.bodyLimit ?? ASK_BODY_LIMIT_BYTES
  const limiter = new RateLimiter(options.rateLimit?.max ?? ASK_RATE_LIMIT_PER_MINUTE, options.rateLimit?.windowMs ?? 60_000)
  const base = config.site.base
  let lastCheck: {at: number; result: BackendCheck} | undefined

  const ready = (async () => {
    const store = options.store ?? (await openStore(config))
    const backend = options.backend ?? (await (await import('./backend.js')).createBackend(config))
    const engine = new AskEngine(config, {store, backend, drafts: options.drafts === true, ...(options.limits ? {limits: options.limits} : {}), log})
    await engine.start()
    if (options.check !== false) {
      void backend.check().then(
        (result) => {
          lastCheck = {at: Date.now(), result}
          if (!result.ok) log(result.message)
        },
        (error: Error) => log('backend check failed: ' + error.message)
      )
    }
    return engine
  })()
  // Reported now and on every use (503); an unhandled rejection here would end the process.
  ready.catch((error: Error) => log('cannot start the conversation engine: ' + error.message))

  async function status(engine: AskEngine): Promise<BackendCheck> {
    if (lastCheck && Date.now() - lastCheck.at < 10_000) return lastCheck.result
    const result = await engine.backend.check()
    lastCheck = {at: Date.now(), result}
    return result
  }

  const handler: Handler = async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost')
    let pathname = url.pathname
    if (base !== '/' && pathname.startsWith(base + 'api/')) pathname = pathname.slice(base.length - 1)
    const route = matchRoute(pathname)
    if (!route) return false
    try {
      guard(request, requireToken, token, url)
      const engine = await ready.catch((error: Error) => {
        throw new AskError(503, 'unavailable', 'The conversation store is not available: ' + error.message)
      })
      await dispatch(engine, route, request, response, url)
    } catch (error) {
      if (response.headersSent) {
        response.end()
        return true
      }
      if (error instanceof AskError) {
        const allowed = (error as AskError & {allow?: string[]}).allow
        const headers: Record<string, string> = error instanceof RateLimited ? {'retry-after': String(error.retryAfter)} : allowed ? {allow: allowed.join(', ')} : {}
        sendError(response, error.status, error.code, error.message, headers)
      }
      else {
        log('internal error: ' + ((error as Error).stack ?? String(error)))
        sendError(response, 500, 'internal', 'Internal error: ' + (error as Error).message)
      }
    }
    return true
  }

  async function dispatch(engine: AskEngine, route: Route, request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const method = request.method ?? 'GET'
    const allow = (methods: string[], message?: string): void => {
      if (!methods.includes(method)) throw Object.assign(new AskError(405, 'method_not_allowed', message ?? method + ' is not allowed here (allowed: ' + methods.join(', ') + ').'), {allow: methods})
    }
    switch (route.name) {
      case 'sessions': {
        allow(['GET', 'POST'])
        if (method === 'GET') return sendJson(response, 200, {sessions: await engine.listSessions({ephemeral: url.searchParams.get('ephemeral') === '1'})})
        const body = await readJson(request, bodyLimit)
        return sendJson(response, 201, {session: await engine.createSession(body)})
      }
      case 'session': {
        allow(['PATCH', 'DELETE'])
        const id = checkedId(route.id, 's', 'session_not_found')
        if (method === 'PATCH') {
          const body = await readJson(request, bodyLimit)
          return sendJson(response, 200, {session: await engine.renameSession(id, body.title)})
        }
        await engine.deleteSession(id)
        return sendJson(response, 200, {deleted: id})
      }
      case 'ask': {
        allow(['POST'])
        const body = await readJson(request, bodyLimit)
        limiter.take(clientOf(request))
        const node = await engine.ask(body)
        return sendJson(response, 201, {node_id: node._id, session_id: node.tree_id, node: publicNode(node)})
      }
      case 'node': {
        allow(['GET'], 'Nodes cannot be changed or deleted: a finished answer is immutable. Delete the session to remove its tree.')
        return sendJson(response, 200, {node: publicNode(await engine.getNode(checkedId(route.id, 'n', 'node_not_found')))})
      }
      case 'stream': {
        allow(['GET'])
        return stream(engine, checkedId(route.id, 'n', 'node_not_found'), request, response, url)
      }
      case 'reply': {
        allow(['POST'])
        const id = checkedId(route.id, 'n', 'node_not_found')
        const body = await readJson(request, bodyLimit)
        limiter.take(clientOf(request))
        const node = await engine.reply(id, body)
        return sendJson(response, 201, {node_id: node._id, session_id: node.tree_id, node: publicNode(node)})
      }
      case 'recall': {
        allow(['POST'])
        const id = checkedId(route.id, 'n', 'node_not_found')
        await readJson(request, bodyLimit, true)
        limiter.take(clientOf(request))
        const node = await engine.recall(id)
        return sendJson(response, 200, {node_id: node._id, session_id: node.tree_id, node: publicNode(node)})
      }
      case 'stop': {
        allow(['POST'])
        const id = checkedId(route.id, 'n', 'node_not_found')
        await readJson(request, bodyLimit, true)
        return sendJson(response, 200, {node: publicNode(await engine.stop(id))})
      }
      case 'tree': {
        allow(['GET'])
        const tree = await engine.tree(checkedId(route.id, 's', 'session_not_found'))
        return sendJson(response, 200, {session: tree.session, nodes: tree.nodes.map(publicNode), tree: tree.tree.map(function strip(node): unknown {
          return {...publicNode(node), children: node.children.map(strip)}
        })})
      }
      case 'status': {
        allow(['GET'])
        return sendJson(response, 200, await status(engine))
      }
    }
  }

  async function stream(engine: AskEngine, id: string, request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    let opened = false
    const open = (): void => {
      if (opened) return
      opened = true
      // No chunked framing: each event is one write; the stream ends with the connection (one response per connection).
      response.useChunkedEncodingByDefault = false
      response.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no'
      })
      response.socket?.setNoDelay(true)
      response.write('retry: 3000\n\n')
    }
    let closed = false
    const sink: StreamSink = {
      event: (_name, _data, frame) => {
        if (closed) return
        open()
        response.write(frame)
      },
      end: () => {
        if (closed) return
        closed = true
        open()
        response.end()
      }
    }
    const lastEventId = (request.headers['last-event-id'] as string | undefined) ?? url.searchParams.get('lastEventId') ?? undefined
    const unsubscribe = await engine.subscribe(id, sink, lastEventId)
    if (unsubscribe === false) {
      // Nothing after the last event the client has: 204 tells EventSource to stop reconnecting.
      response.writeHead(204)
      response.end()
      return
    }
    if (closed) return
    open()
    const ping = setInterval(() => response.write(': ping\n\n'), pingMs)
    const stop = (): void => {
      clearInterval(ping)
      unsubscribe()
    }
    response.on('close', stop)
    if (response.writableEnded) stop()
  }

  return {
    handler,
    ready,
    close: async () => {
      const engine = await ready.catch(() => undefined)
      await engine?.close()
    }
  }
}

type Route = {name: 'sessions' | 'ask' | 'status'; id?: undefined} | {name: 'session' | 'node' | 'stream' | 'reply' | 'recall' | 'stop' | 'tree'; id: string}

function matchRoute(pathname: string): Route | undefined {
  if (pathname === '/api/sessions') return {name: 'sessions'}
  if (pathname === '/api/ask') return {name: 'ask'}
  if (pathname === '/api/ask/status') return {name: 'status'}
  let match = /^\/api\/sessions\/([^/]+)$/.exec(pathname)
  if (match) return {name: 'session', id: decodeURIComponent(match[1] as string)}
  match = /^\/api\/trees\/([^/]+)$/.exec(pathname)
  if (match) return {name: 'tree', id: decodeURIComponent(match[1] as string)}
  match = /^\/api\/nodes\/([^/]+)(?:\/(stream|reply|recall|stop))?$/.exec(pathname)
  if (match) return {name: (match[2] as 'stream' | 'reply' | 'recall' | 'stop' | undefined) ?? 'node', id: decodeURIComponent(match[1] as string)}
  return undefined
}

function checkedId(id: string, prefix: 's' | 'n', code: string): string {
  if (!isId(id, prefix)) throw new AskError(404, code, 'No ' + (prefix === 's' ? 'session ' : 'node ') + id)
  return id
}

/** A node as the API shows it: without the engine's bookkeeping (owner, lease). */
export function publicNode(node: NodeDoc): Omit<NodeDoc, 'owner' | 'lease_until'> {
  const {owner: _owner, lease_until: _lease, ...rest} = node
  return rest
}

class RateLimited extends AskError {
  constructor(readonly retryAfter: number) {
    super(429, 'rate_limited', 'Too many questions from this address; try again in ' + retryAfter + ' s.')
  }
}

/** A sliding window of ask times per client address. */
export class RateLimiter {
  private readonly hits = new Map<string, number[]>()
  private sweeps = 0

  constructor(
    readonly max: number,
    readonly windowMs: number
  ) {}

  take(key: string, now = Date.now()): void {
    const since = now - this.windowMs
    const times = (this.hits.get(key) ?? []).filter((time) => time > since)
    if (times.length >= this.max) {
      this.hits.set(key, times)
      throw new RateLimited(Math.max(1, Math.ceil(((times[0] as number) + this.windowMs - now) / 1000)))
    }
    times.push(now)
    this.hits.set(key, times)
    if (++this.sweeps % 1000 === 0) for (const [other, list] of this.hits) if ((list[list.length - 1] ?? 0) <= since) this.hits.delete(other)
  }
}

function clientOf(request: IncomingMessage): string {
  return request.socket.remoteAddress ?? 'unknown'
}

/**
 * Who may call: with a token, a matching bearer token (header, `tagpress_token`
 * cookie, or `token` query parameter for EventSource, which cannot set
 * headers); without one (loopback only), requests must name a loopback host
 * (no DNS rebinding). State changes must not come from another origin.
 */
function guard(request: IncomingMessage, requireToken: boolean, token: string | undefined, url: URL): void {
  if (requireToken) {
    if (!token) throw new AskError(503, 'token_not_configured', 'The server is reachable beyond this machine but has no token: set TAGPRESS_TOKEN (or server.token).')
    const given = bearerOf(request) ?? cookieOf(request, 'tagpress_token') ?? url.searchParams.get('token') ?? ''
    if (!safeEqual(given, token)) throw new AskError(401, 'unauthorized', 'A valid bearer token is required (Authorization: Bearer <TAGPRESS_TOKEN>).')
  } else {
    const host = (request.headers.host ?? '').replace(/:\d+$/, '')
    if (host !== '' && !isLoopbackHost(host)) throw new AskError(403, 'forbidden_host', 'This API answers on localhost only; set a token (TAGPRESS_TOKEN) to expose it.')
  }
  const method = request.method ?? 'GET'
  const origin = request.headers.origin
  if (method !== 'GET' && method !== 'HEAD' && origin && origin !== 'null') {
    let originHost: string
    try {
      originHost = new URL(origin).host
    } catch {
      throw new AskError(403, 'forbidden_origin', 'Bad Origin header.')
    }
    if (originHost !== request.headers.host) throw new AskError(403, 'forbidden_origin', 'Requests from another origin are not accepted.')
  }
}

function bearerOf(request: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')
  return match?.[1]
}

function cookieOf(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=')
    if (key === name) return decodeURIComponent(value.join('='))
  }
  return undefined
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}

async function readJson(request: IncomingMessage, limit: number, optional = false): Promise<Record<string, unknown>> {
  const declared = Number(request.headers['content-length'] ?? 0)
  if (declared > limit) throw new AskError(413, 'body_too_large', 'The request body is larger than ' + limit + ' bytes.')
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) throw new AskError(413, 'body_too_large', 'The request body is larger than ' + limit + ' bytes.')
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') {
    if (optional) return {}
    throw new AskError(400, 'body_required', 'A JSON body is required.')
  }
  const type = request.headers['content-type'] ?? ''
  if (!/^application\/json\b/i.test(type)) throw new AskError(415, 'json_required', 'The body must be JSON (Content-Type: application/json).')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new AskError(400, 'bad_json', 'The body is not valid JSON.')
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new AskError(400, 'bad_json', 'The body must be a JSON object.')
  return value as Record<string, unknown>
}

function sendJson(response: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(value)
  response.writeHead(status, {'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers})
  response.end(text)
}

function sendError(response: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(response, status, {error: message, code}, headers)
}
