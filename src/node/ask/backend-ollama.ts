import {
  BackendError,
  downMessage,
  isAbortError,
  isNetworkError,
  missingMessage,
  networkDetail,
  type BackendCheck,
  type ChatEvent,
  type ChatRequest,
  type ModelBackend,
  type ModelDescription
} from './backend.js'

/**
 * Ollama through its npm client, `ollama` (ollama-js). Its quirks, and what
 * we do about them (`shared/research/ask-mongo.md` §2):
 * - `abort()` on a client stops every stream of that client: one client per stream;
 * - there is no `signal` option, so nothing can be aborted before the
 *   headers arrive (model loading): we pass our own `fetch` that adds our
 *   signal to every request;
 * - `ResponseError` is not exported: we test `name` and `status_code`, and a
 *   404 means the model is missing whatever its text says (two spellings exist);
 * - it ignores `OLLAMA_HOST`: the config reads it (`llm.host`);
 * - Ollama thinks by default on thinking models: we send `think: false`.
 *
 * When the package is not installed, a small built-in client with the same
 * surface and the same error semantics speaks the same wire format.
 */

/** The part of ollama-js's `Ollama` class we use. */
interface OllamaClient {
  chat(request: Record<string, unknown>): Promise<AsyncIterable<OllamaChunk> & {abort(): void}>
  list(): Promise<{models: Array<{name: string; model?: string; digest?: string}>}>
  show(request: {model: string}): Promise<{capabilities?: string[]; model_info?: Record<string, unknown>}>
  version(): Promise<{version: string}>
}

interface OllamaChunk {
  message?: {content?: string; thinking?: string}
  done?: boolean
  done_reason?: string
  prompt_eval_count?: number
  eval_count?: number
  total_duration?: number
}

type ClientFactory = (host: string, fetchImpl: typeof fetch) => OllamaClient

/** Which client talks to Ollama: the npm package, or the built-in one when it is absent. */
export type OllamaClientKind = 'ollama-js' | 'builtin'

/** ollama-js's message for a stream that ended without its `done` line (the only way it tells us). */
const noDoneMessage = 'Did not receive done or success response in stream.'

let loaded: Promise<{kind: OllamaClientKind; factory: ClientFactory}> | undefined

async function loadClient(prefer?: OllamaClientKind): Promise<{kind: OllamaClientKind; factory: ClientFactory}> {
  if (prefer === 'builtin') return {kind: 'builtin', factory: (host, fetchImpl) => new WireClient(host, fetchImpl)}
  loaded ??= (async () => {
    try {
      // A variable keeps the compiler from requiring the package's types.
      const specifier = 'ollama'
      const module = (await import(specifier)) as {Ollama: new (config: {host: string; fetch: typeof fetch}) => OllamaClient}
      return {kind: 'ollama-js' as const, factory: (host: string, fetchImpl: typeof fetch) => new module.Ollama({host, fetch: fetchImpl})}
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error
      return {kind: 'builtin' as const, factory: (host: string, fetchImpl: typeof fetch) => new WireClient(host, fetchImpl)}
    }
  })()
  const result = await loaded
  if (prefer === 'ollama-js' && result.kind !== 'ollama-js') throw new Error('The `ollama` npm package is not installed')
  return result
}

export class OllamaBackend implements ModelBackend {
  readonly kind = 'ollama' as const
  private described: ModelDescription | undefined
  /** Request-level fields taken out of `llm.options` (`keep_alive`); the rest are model options. */
  private readonly keepAlive: string | number | undefined
  private readonly modelOptions: Record<string, unknown>

  private constructor(
    readonly host: string,
    readonly model: string,
    readonly options: Record<string, unknown>,
    readonly client: OllamaClientKind,
    private readonly factory: ClientFactory
  ) {
    const {keep_alive: keepAlive, think: _think, ...rest} = options
    this.keepAlive = typeof keepAlive === 'string' || typeof keepAlive === 'number' ? keepAlive : undefined
    this.modelOptions = rest
  }

  static async create(host: string, model: string, options: Record<string, unknown> = {}, client?: OllamaClientKind): Promise<OllamaBackend> {
    const {kind, factory} = await loadClient(client)
    return new OllamaBackend(host.replace(/\/+$/, ''), model, options, kind, factory)
  }

  /** A client of its own whose every request also obeys `signal` (aborts before the headers too). */
  private clientFor(signal?: AbortSignal): OllamaClient {
    const fetchImpl: typeof fetch = (input, init = {}) => {
      const signals = [init.signal, signal].filter((value): value is AbortSignal => value instanceof AbortSignal)
      return fetch(input, {...init, ...(signals.length > 0 ? {signal: signals.length === 1 ? signals[0] : AbortSignal.any(signals)} : {})})
    }
    return this.factory(this.host, fetchImpl)
  }

  async *chat(request: ChatRequest): AsyncIterable<ChatEvent> {
    const client = this.clientFor(request.signal)
    let phase: 'request' | 'stream' = 'request'
    let stream: (AsyncIterable<OllamaChunk> & {abort(): void}) | undefined
    let finished = false
    try {
      stream = await client.chat({
        model: this.model,
        messages: request.messages,
        stream: true,
        think: false,
        ...(this.keepAlive !== undefined ? {keep_alive: this.keepAlive} : {}),
        ...(Object.keys(this.modelOptions).length > 0 ? {options: this.modelOptions} : {})
      })
      phase = 'stream'
      for await (const chunk of stream) {
        const text = chunk.message?.content ?? ''
        if (text !== '') yield {type: 'text', text}
        if (chunk.done) {
          finished = true
          yield {
            type: 'done',
            usage: {
              ...(chunk.done_reason !== undefined ? {done_reason: chunk.done_reason} : {}),
              ...(chunk.prompt_eval_count !== undefined ? {prompt_eval_count: chunk.prompt_eval_count} : {}),
              ...(chunk.eval_count !== undefined ? {eval_count: chunk.eval_count} : {}),
              ...(chunk.total_duration !== undefined ? {total_duration: chunk.total_duration} : {})
            }
          }
          return
        }
      }
      throw new BackendError('stream_cut', 'The answer stopped before its end: the connection to Ollama was closed mid-stream.')
    } catch (error) {
      throw this.classify(error, phase)
    } finally {
      // The consumer stopped early (or failed): close this stream's connection.
      if (!finished) stream?.abort()
    }
  }

  private classify(error: unknown, phase: 'request' | 'stream'): unknown {
    if (error instanceof BackendError || isAbortError(error)) return error
    const response = error as {name?: string; status_code?: number; error?: string; message?: string}
    if (response.name === 'ResponseError' && typeof response.status_code === 'number') {
      if (response.status_code === 404) return new BackendError('model_missing', missingMessage('ollama', this.model, this.host), 404)
      return new BackendError('backend_error', 'Ollama answered ' + response.status_code + ': ' + (response.error ?? response.message ?? ''), response.status_code)
    }
    if (phase === 'request' && isNetworkError(error)) return new BackendError('backend_down', downMessage('ollama', this.host, networkDetail(error)))
    if (phase === 'stream') {
      if (error instanceof TypeError || response.message === noDoneMessage) {
        return new BackendError('stream_cut', 'The answer stopped before its end: the connection to Ollama was closed mid-stream.')
      }
      return new BackendError('backend_error', 'Ollama reported an error while answering: ' + (response.message ?? String(error)))
    }
    return new BackendError('backend_error', 'Ollama request failed: ' + (response.message ?? String(error)))
  }

  async describe(): Promise<ModelDescription> {
    if (this.described) return this.described
    const client = this.clientFor(AbortSignal.timeout(10_000))
    try {
      const [list, show] = await Promise.all([client.list(), client.show({model: this.model})])
      const wanted = fullName(this.model)
      const entry = list.models.find((model) => fullName(model.name) === wanted || fullName(model.model ?? '') === wanted)
      const info = show.model_info ?? {}
      const architecture = info['general.architecture']
      const contextLength = typeof architecture === 'string' ? info[architecture + '.context_length'] : undefined
      this.described = {
        name: this.model,
        ...(entry?.digest ? {digest: entry.digest} : {}),
        ...(typeof contextLength === 'number' ? {contextLength} : {}),
        ...(show.capabilities ? {capabilities: show.capabilities} : {})
      }
      return this.described
    } catch (error) {
      throw this.classify(error, 'request')
    }
  }

  async check(): Promise<BackendCheck> {
    const base = {ok: false, backend: 'ollama' as const, host: this.host, model: this.model}
    const client = this.clientFor(AbortSignal.timeout(10_000))
    let version: string
    try {
      version = (await client.version()).version
    } catch (error) {
      const classified = this.classify(error, 'request')
      if (classified instanceof BackendError) return {...base, reason: classified.reason, message: classified.message}
      return {...base, reason: 'backend_down', message: downMessage('ollama', this.host, (error as Error).message)}
    }
    try {
      const list = await client.list()
      const wanted = fullName(this.model)
      if (!list.models.some((model) => fullName(model.name) === wanted || fullName(model.model ?? '') === wanted)) {
        return {...base, version, reason: 'model_missing', message: missingMessage('ollama', this.model, this.host)}
      }
      const described = await this.describe()
      return {
        ...base,
        ok: true,
        version,
        ...(described.digest ? {digest: described.digest} : {}),
        ...(described.contextLength ? {contextLength: described.contextLength} : {}),
        message: 'Ollama ' + version + ' at ' + this.host + ' has `' + this.model + '`' + (described.digest ? ' (' + described.digest.slice(0, 12) + ')' : '') + '.'
      }
    } catch (error) {
      const classified = this.classify(error, 'request')
      if (classified instanceof BackendError) return {...base, version, reason: classified.reason, message: classified.message}
      throw error
    }
  }
}

/** `llama3.2` and `llama3.2:latest` name one model. */
function fullName(name: string): string {
  return name.includes(':') ? name : name + ':latest'
}

/** ollama-js's error for a non-2xx answer (the class is not exported; we make the same shape). */
class ResponseError extends Error {
  override name = 'ResponseError'
  constructor(
    readonly error: string,
    readonly status_code: number
  ) {
    super(error)
  }
}

/**
 * The built-in client: the subset of ollama-js we use, with its semantics
 * (`ResponseError` with `status_code` before the stream, a plain `Error` for
 * an `{"error"}` line, `noDoneMessage` for a stream without its `done`).
 */
class WireClient implements OllamaClient {
  constructor(
    private readonly host: string,
    private readonly fetchImpl: typeof fetch
  ) {}

  private async request(path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    const response = await this.fetchImpl(this.host + path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {'content-type': 'application/json', accept: 'application/json'},
      ...(body === undefined ? {} : {body: JSON.stringify(body)}),
      ...(signal ? {signal} : {})
    })
    if (response.ok) return response
    let message = 'Error ' + response.status + ': ' + response.statusText
    const text = await response.text().catch(() => '')
    try {
      message = (JSON.parse(text) as {error?: string}).error ?? message
    } catch {
      if (text) message = text
    }
    throw new ResponseError(message, response.status)
  }

  async chat(request: Record<string, unknown>): Promise<AsyncIterable<OllamaChunk> & {abort(): void}> {
    const controller = new AbortController()
    const response = await this.request('/api/chat', request, controller.signal)
    const body = response.body
    if (!body) throw new Error('Missing body')
    return {
      abort: () => controller.abort(),
      async *[Symbol.asyncIterator]() {
        const decoder = new TextDecoder()
        let buffer = ''
        const reader = body.getReader()
        const parse = function* (lines: string[]): Generator<OllamaChunk> {
          for (const line of lines) {
            if (line.trim() === '') continue
            const value = JSON.parse(line) as OllamaChunk & {error?: string}
            if (value.error !== undefined) throw new Error(value.error)
            yield value
          }
        }
        for (;;) {
          const {done, value} = await reader.read()
          if (done) break
          buffer += decoder.decode(value, {stream: true})
          const lines = buffer.split('\n')
          buffer = lines.pop() ?? ''
          for (const chunk of parse(lines)) {
            yield chunk
            if (chunk.done) return
          }
        }
        buffer += decoder.decode()
        for (const chunk of parse(buffer.split('\n'))) {
          yield chunk
          if (chunk.done) return
        }
        throw new Error(noDoneMessage)
      }
    }
  }

  async list(): Promise<{models: Array<{name: string; model?: string; digest?: string}>}> {
    return (await (await this.request('/api/tags')).json()) as {models: Array<{name: string; digest?: string}>}
  }

  async show(request: {model: string}): Promise<{capabilities?: string[]; model_info?: Record<string, unknown>}> {
    return (await (await this.request('/api/show', request)).json()) as {capabilities?: string[]; model_info?: Record<string, unknown>}
  }

  async version(): Promise<{version: string}> {
    return (await (await this.request('/api/version')).json()) as {version: string}
  }
}
