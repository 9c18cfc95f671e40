import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'

/**
 * A stand-in Ollama server on loopback for the ask engine's tests and
 * benchmark. It speaks Ollama's HTTP API as Ollama documents and implements
 * it (`docs/api.md`, `server/routes.go`, `middleware/openai.go`):
 *
 * - `GET|HEAD /` → `Ollama is running`; `/api/version`; `/api/tags`; `POST /api/show`;
 * - `POST /api/chat` and `/api/generate`: NDJSON (`application/x-ndjson`), one
 *   object a line with the real field names, the last line `done:true` with
 *   `done_reason` and the metrics (nanoseconds); `load` for empty input;
 *   `think` honoured (thinking models think unless `think:false`; `think:true`
 *   on another model is a 400);
 * - `POST /v1/chat/completions` (SSE `data: {chunk}` … `data: [DONE]`) and `GET /v1/models`;
 * - a missing model is a 404 in the current spelling (`model 'x' not found`)
 *   or the pre-0.12 one (`model "x" not found, try pulling it first`);
 * - faults, programmed per request: slow tokens, a delay or a hang before the
 *   headers, an error status, a cut mid-stream (clean EOF or reset), an
 *   `{"error":…}` line mid-stream under status 200.
 *
 * It records every request and whether the client went away before the
 * response ended (`disconnected`).
 */

export interface StandinModel {
  name: string
  digest: string
  family: string
  parameterSize: string
  capabilities: string[]
  contextLength: number
}

export interface Fault {
  /** Delay before each token, in ms. */
  tokenDelayMs?: number
  /** Delay before the response headers, in ms. */
  headerDelayMs?: number
  /** Never answer (until the client goes away). */
  hang?: boolean
  /** Answer with this status and `{"error": errorMessage}` before any stream. */
  status?: number
  /** After this many tokens, end the stream without its final line. */
  cutAfter?: number
  /** `eof`: end the chunked body cleanly; `reset`: destroy the socket. */
  cutMode?: 'eof' | 'reset'
  /** After this many tokens, send an `{"error":…}` line (status stays 200) and end. */
  errorAfter?: number
  errorMessage?: string
  /** The answer's text (default: the stand-in's own answer). */
  reply?: string
}

export interface RecordedRequest {
  method: string
  path: string
  headers: IncomingMessage['headers']
  body: Record<string, unknown> | undefined
  at: number
  /** Tokens written to it. */
  tokens: number
  /** The response ended normally. */
  finished: boolean
  /** The client closed the connection before the response ended. */
  disconnected: boolean
}

export interface Standin {
  url: string
  port: number
  models: StandinModel[]
  requests: RecordedRequest[]
  /** Defaults for every generation (e.g. `{tokenDelayMs: 5}`). */
  defaults: Fault
  /** `current` (Ollama ≥ 0.12) or `legacy` 404 text for a missing model. */
  missingStyle: 'current' | 'legacy'
  /** The answer for a request when no fault sets one (default: built from the context). */
  reply: (messages: Array<{role: string; content: string}>) => string
  /** Queue a fault for the next generation request (FIFO). */
  next(fault: Fault): void
  /** Generation requests (`/api/chat`, `/api/generate`, `/v1/chat/completions`). */
  generations(): RecordedRequest[]
  /** Resolves when a generation request's client has gone away. */
  waitForDisconnect(timeoutMs?: number): Promise<RecordedRequest>
  /** Resolves when a generation request has arrived. */
  waitForRequest(count?: number, timeoutMs?: number): Promise<RecordedRequest>
  /** Called with each token as it is written (for latency measurements). */
  onToken?: (request: RecordedRequest, index: number, at: number) => void
  close(): Promise<void>
}

const defaultModels: StandinModel[] = [
  {name: 'qwen2.5:0.5b', digest: 'a8b0c51577010a279d933d14c2a8ab4b268079d44c5c8830c0a93900f1827c67', family: 'qwen2', parameterSize: '494.03M', capabilities: ['completion', 'tools'], contextLength: 32768},
  {name: 'llama3.2:latest', digest: 'a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72', family: 'llama', parameterSize: '3.2B', capabilities: ['completion', 'tools'], contextLength: 131072},
  {name: 'qwen3:latest', digest: 'e4b5fd7f8af0e3a1d3c33f0e7c5c6c7bbd3e5a4f0c2f1d7e6b5a4c3d2e1f0a9b', family: 'qwen3', parameterSize: '8.2B', capabilities: ['completion', 'tools', 'thinking'], contextLength: 40960}
]

/** Split text into tokens the way a model streams them: each with its leading white space. */
export function tokensOf(text: string): string[] {
  return text.match(/\s*\S+|\s+/g) ?? []
}

/** The default answer: cites the first section of the context and quotes its title, in a few Markdown blocks. */
export function defaultReply(messages: Array<{role: string; content: string}>): string {
  const last = [...messages].reverse().find((message) => message.role === 'user')?.content ?? ''
  const label = /<section label="(\d+)"/.exec(last)?.[1]
  const title = /<section [^>]*title="([^"]*)"/.exec(last)?.[1] ?? 'this page'
  const question = /Question:\s*(.*)$/s.exec(last)?.[1]?.trim() ?? ''
  const cite = label ? ' [§' + label + ']' : ''
  return [
    'The section "' + title + '" answers this' + cite + '.',
    '',
    '- It is written in the page itself.',
    '- You asked: ' + question.slice(0, 80),
    '',
    '```text',
    'example',
    '```',
    '',
    'That is all the page says about it.'
  ].join('\n')
}

/** An answer of exactly `count` tokens in a few blocks (for the benchmark). */
export function replyOfTokens(count: number): string {
  const words: string[] = []
  for (let index = 0; index < count; index++) {
    const word = 'w' + index
    if (index > 0 && index % 40 === 0) words.push('\n\n' + word)
    else words.push((index === 0 ? '' : ' ') + word)
  }
  return words.join('')
}

export async function startStandin(options: {port?: number} = {}): Promise<Standin> {
  const queue: Fault[] = []
  const sockets = new Set<Socket>()
  const waiters: Array<{kind: 'disconnect' | 'request'; count: number; resolve: (request: RecordedRequest) => void}> = []
  let completionId = 0

  const standin: Standin = {
    url: '',
    port: 0,
    models: defaultModels.map((model) => ({...model, capabilities: [...model.capabilities]})),
    requests: [],
    defaults: {},
    missingStyle: 'current',
    reply: defaultReply,
    next: (fault) => void queue.push(fault),
    generations: () => standin.requests.filter((request) => isGeneration(request.path)),
    waitForDisconnect: (timeoutMs = 10_000) => wait('disconnect', 1, timeoutMs),
    waitForRequest: (count = 1, timeoutMs = 10_000) => wait('request', count, timeoutMs),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      })
  }

  function wait(kind: 'disconnect' | 'request', count: number, timeoutMs: number): Promise<RecordedRequest> {
    const found = kind === 'disconnect' ? standin.generations().filter((request) => request.disconnected) : standin.generations()
    if (found.length >= count) return Promise.resolve(found[count - 1] as RecordedRequest)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('stand-in: no ' + kind + ' within ' + timeoutMs + ' ms')), timeoutMs)
      waiters.push({
        kind,
        count,
        resolve: (request) => {
          clearTimeout(timer)
          resolve(request)
        }
      })
    })
  }

  function notify(kind: 'disconnect' | 'request'): void {
    const found = kind === 'disconnect' ? standin.generations().filter((request) => request.disconnected) : standin.generations()
    for (const waiter of [...waiters]) {
      if (waiter.kind !== kind || found.length < waiter.count) continue
      waiters.splice(waiters.indexOf(waiter), 1)
      waiter.resolve(found[waiter.count - 1] as RecordedRequest)
    }
  }

  function findModel(name: unknown): StandinModel | undefined {
    if (typeof name !== 'string' || name === '') return undefined
    const full = name.includes(':') ? name : name + ':latest'
    return standin.models.find((model) => model.name === full || model.name === name)
  }

  function missingText(name: string): string {
    return standin.missingStyle === 'current' ? "model '" + name + "' not found" : 'model "' + name + '" not found, try pulling it first'
  }

  const server: Server = createServer((request, response) => {
    void handle(request, response).catch((error: Error) => {
      if (!response.headersSent) json(response, 500, {error: error.message})
      else response.destroy()
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://standin')
    let text = ''
    for await (const chunk of request) text += chunk
    let body: Record<string, unknown> | undefined
    if (text !== '') {
      try {
        body = JSON.parse(text) as Record<string, unknown>
      } catch {
        return json(response, 400, {error: 'invalid character in request body'})
      }
    }
    const record: RecordedRequest = {method: request.method ?? 'GET', path: url.pathname, headers: request.headers, body, at: performance.now(), tokens: 0, finished: false, disconnected: false}
    standin.requests.push(record)
    response.on('finish', () => (record.finished = true))
    response.on('close', () => {
      if (!record.finished) {
        record.disconnected = true
        notify('disconnect')
      }
    })
    const method = request.method ?? 'GET'
    const route = method === 'HEAD' ? 'GET' : method
    if (route === 'GET' && url.pathname === '/') {
      response.writeHead(200, {'content-type': 'text/plain; charset=utf-8'})
      return void response.end(method === 'HEAD' ? undefined : 'Ollama is running')
    }
    if (route === 'GET' && url.pathname === '/api/version') return json(response, 200, {version: '0.12.6'}, method === 'HEAD')
    if (route === 'GET' && url.pathname === '/api/tags') {
      return json(response, 200, {
        models: standin.models.map((model) => ({
          name: model.name,
          model: model.name,
          modified_at: '2025-05-04T17:37:44.706015396-07:00',
          size: 2019393189,
          digest: model.digest,
          details: {parent_model: '', format: 'gguf', family: model.family, families: [model.family], parameter_size: model.parameterSize, quantization_level: 'Q4_K_M'}
        }))
      }, method === 'HEAD')
    }
    if (method === 'POST' && url.pathname === '/api/show') {
      const name = (body?.model ?? body?.name) as string | undefined
      const model = findModel(name)
      if (!model) return json(response, 404, {error: "model '" + (name ?? '') + "' not found"})
      return json(response, 200, {
        license: '',
        modelfile: '# Modelfile generated by "ollama show"\nFROM ' + model.name + '\n',
        parameters: 'stop "<|im_end|>"',
        template: '{{ .Prompt }}',
        details: {parent_model: '', format: 'gguf', family: model.family, families: [model.family], parameter_size: model.parameterSize, quantization_level: 'Q4_K_M'},
        model_info: {'general.architecture': model.family, [model.family + '.context_length']: model.contextLength},
        capabilities: model.capabilities,
        modified_at: '2025-05-04T17:37:44.706015396-07:00'
      })
    }
    if (route === 'GET' && url.pathname === '/v1/models') {
      return json(response, 200, {object: 'list', data: standin.models.map((model) => ({id: model.name, object: 'model', created: 1746405464, owned_by: 'library'}))})
    }
    if (method === 'POST' && isGeneration(url.pathname)) {
      notify('request')
      return generate(url.pathname, body ?? {}, record, request, response)
    }
    json(response, 404, {error: 'not found'})
  }

  async function generate(route: string, body: Record<string, unknown>, record: RecordedRequest, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const openai = route === '/v1/chat/completions'
    const fault: Fault = {...standin.defaults, ...(queue.shift() ?? {})}
    const gone = (): boolean => record.disconnected || response.destroyed
    if (fault.hang) return // The client's abort closes the socket; `close` records it.
    if (fault.headerDelayMs) await sleep(fault.headerDelayMs)
    if (gone()) return
    if (body.model === undefined || body.model === '') return openai ? openaiError(response, 400, 'model is required') : json(response, 400, {error: 'model is required'})
    const model = findModel(body.model)
    if (!model) {
      const name = String(body.model)
      return openai ? openaiError(response, 404, "model '" + name + "' not found") : json(response, 404, {error: missingText(name)})
    }
    if (fault.status) {
      const message = fault.errorMessage ?? 'an error was encountered while running the model'
      return openai ? openaiError(response, fault.status, message) : json(response, fault.status, {error: message})
    }
    const messages = route === '/api/generate' ? [{role: 'user', content: String(body.prompt ?? '')}] : ((body.messages as Array<{role: string; content: string}> | undefined) ?? [])
    const thinking = model.capabilities.includes('thinking')
    const think = body.think
    if (!openai && think !== undefined && think !== false && !thinking) return json(response, 400, {error: '"' + model.name.replace(/:latest$/, '') + '" does not support thinking'})
    const started = process.hrtime.bigint()
    const name = String(body.model)
    const stream = body.stream !== false
    const base = (): Record<string, unknown> => ({model: name, created_at: new Date().toISOString()})
    const empty = route === '/api/generate' ? String(body.prompt ?? '') === '' : messages.length === 0
    if (empty && !openai) {
      const reason = body.keep_alive === 0 ? 'unload' : 'load'
      const line = route === '/api/generate' ? {...base(), response: '', done: true, done_reason: reason} : {...base(), message: {role: 'assistant', content: ''}, done: true, done_reason: reason}
      return json(response, 200, line)
    }

    let tokens = tokensOf(fault.reply ?? standin.reply(messages))
    const options = (body.options as Record<string, unknown> | undefined) ?? {}
    const limit = openai ? (body.max_tokens as number | undefined) : (options.num_predict as number | undefined)
    let doneReason = 'stop'
    if (typeof limit === 'number' && limit > 0 && tokens.length > limit) {
      tokens = tokens.slice(0, limit)
      doneReason = 'length'
    }
    const promptTokens = Math.ceil(messages.reduce((sum, message) => sum + message.content.length, 0) / 4)
    const thoughts = thinking && !openai && think !== false ? tokensOf('Let me read the page first.') : []

    if (!stream) {
      const content = tokens.join('')
      const metrics = metricsOf(started, promptTokens, tokens.length)
      if (openai) return json(response, 200, {id: 'chatcmpl-' + (completionId++ % 999), object: 'chat.completion', created: Math.floor(Date.now() / 1000), model: name, system_fingerprint: 'fp_ollama', choices: [{index: 0, message: {role: 'assistant', content}, finish_reason: doneReason}], usage: {prompt_tokens: promptTokens, completion_tokens: tokens.length, total_tokens: promptTokens + tokens.length}})
      const line = route === '/api/generate' ? {...base(), response: content, done: true, done_reason: doneReason, ...metrics} : {...base(), message: {role: 'assistant', content}, done: true, done_reason: doneReason, ...metrics}
      return json(response, 200, line)
    }

    response.writeHead(200, openai ? {'content-type': 'text/event-stream'} : {'content-type': 'application/x-ndjson'})
    response.flushHeaders()
    const id = 'chatcmpl-' + (completionId++ % 999)
    const created = Math.floor(Date.now() / 1000)
    let first = true
    const write = (line: string): void => void response.write(line)
    const ndjson = (content: string, extra: Record<string, unknown> = {}, thinkingText?: string): string => {
      if (route === '/api/generate') return JSON.stringify({...base(), response: content, ...(thinkingText ? {thinking: thinkingText} : {}), done: false, ...extra}) + '\n'
      return JSON.stringify({...base(), message: {role: 'assistant', content, ...(thinkingText ? {thinking: thinkingText} : {})}, done: false, ...extra}) + '\n'
    }
    const sse = (delta: Record<string, unknown>, finish: string | null): string => {
      const choice = {index: 0, delta: first ? {role: 'assistant', ...delta} : delta, finish_reason: finish}
      first = false
      return 'data: ' + JSON.stringify({id, object: 'chat.completion.chunk', created, model: name, system_fingerprint: 'fp_ollama', choices: [choice]}) + '\n\n'
    }

    for (const thought of thoughts) {
      if (fault.tokenDelayMs) await sleep(fault.tokenDelayMs)
      if (gone()) return
      write(ndjson('', {}, thought))
    }
    for (let index = 0; index < tokens.length; index++) {
      if (fault.tokenDelayMs) await sleep(fault.tokenDelayMs)
      if (gone()) return
      if (fault.cutAfter !== undefined && index >= fault.cutAfter) {
        if (fault.cutMode === 'reset') response.socket?.destroy()
        else response.end()
        return
      }
      if (fault.errorAfter !== undefined && index >= fault.errorAfter) {
        const message = fault.errorMessage ?? 'an error was encountered while running the model'
        // Ollama writes the error as the last line under status 200; its OpenAI layer then ends without [DONE]
        // (vLLM and llama.cpp send an error object as an event: we do that).
        if (openai) response.end('data: ' + JSON.stringify({error: {message, type: 'api_error', param: null, code: null}}) + '\n\n')
        else response.end(JSON.stringify({error: message}) + '\n')
        return
      }
      const token = tokens[index] as string
      write(openai ? sse({content: token}, null) : ndjson(token))
      record.tokens++
      standin.onToken?.(record, index, performance.now())
    }
    if (gone()) return
    const metrics = metricsOf(started, promptTokens, tokens.length)
    if (openai) {
      if (first) write(sse({content: ''}, null))
      write(sse({}, doneReason))
      const streamOptions = body.stream_options as {include_usage?: boolean} | undefined
      if (streamOptions?.include_usage) {
        write('data: ' + JSON.stringify({id, object: 'chat.completion.chunk', created, model: name, system_fingerprint: 'fp_ollama', choices: [], usage: {prompt_tokens: promptTokens, completion_tokens: tokens.length, total_tokens: promptTokens + tokens.length}}) + '\n\n')
      }
      response.end('data: [DONE]\n\n')
    } else {
      const last = route === '/api/generate'
        ? {...base(), response: '', done: true, done_reason: doneReason, context: [1, 2, 3], ...metrics}
        : {...base(), message: {role: 'assistant', content: ''}, done: true, done_reason: doneReason, ...metrics}
      response.end(JSON.stringify(last) + '\n')
    }
    void request
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve))
  const address = server.address() as AddressInfo
  standin.port = address.port
  standin.url = 'http://127.0.0.1:' + address.port
  return standin
}

function isGeneration(path: string): boolean {
  return path === '/api/chat' || path === '/api/generate' || path === '/v1/chat/completions'
}

function metricsOf(started: bigint, promptTokens: number, evalCount: number): Record<string, number> {
  const total = Number(process.hrtime.bigint() - started)
  return {
    total_duration: total,
    load_duration: 1334875,
    prompt_eval_count: promptTokens,
    prompt_eval_duration: Math.floor(total / 10),
    eval_count: evalCount,
    eval_duration: Math.floor((total * 9) / 10)
  }
}

function json(response: ServerResponse, status: number, value: unknown, head = false): void {
  const text = JSON.stringify(value)
  response.writeHead(status, {'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text)})
  response.end(head ? undefined : text)
}

function openaiError(response: ServerResponse, status: number, message: string): void {
  const type = status === 400 ? 'invalid_request_error' : status === 404 ? 'not_found_error' : 'api_error'
  json(response, status, {error: {message, type, param: null, code: null}})
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
