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
import type {Usage} from './types.js'

/** Options of `llm.options` that the OpenAI chat API knows (others are Ollama's and are not sent). */
const passed = ['temperature', 'top_p', 'seed', 'stop', 'max_tokens', 'frequency_penalty', 'presence_penalty'] as const

/**
 * An OpenAI-compatible `/v1/chat/completions` endpoint, streamed as
 * Server-Sent Events (`data: {chunk}` … `data: [DONE]`): `litgpt serve`,
 * llama.cpp's `llama-server`, vLLM, Ollama's own `/v1`. `llm.host` is the
 * base URL with or without `/v1`. `OPENAI_API_KEY`, when set, is sent as a
 * bearer token.
 */
export class OpenAIBackend implements ModelBackend {
  readonly kind = 'openai' as const
  readonly host: string
  private readonly base: string
  private described: ModelDescription | undefined

  constructor(
    host: string,
    readonly model: string,
    readonly options: Record<string, unknown> = {},
    private readonly apiKey: string | undefined = process.env.OPENAI_API_KEY
  ) {
    this.host = host.replace(/\/+$/, '')
    this.base = /\/v1$/.test(this.host) ? this.host : this.host + '/v1'
  }

  private headers(): Record<string, string> {
    return {'content-type': 'application/json', accept: 'text/event-stream, application/json', ...(this.apiKey ? {authorization: 'Bearer ' + this.apiKey} : {})}
  }

  private body(messages: ChatRequest['messages']): Record<string, unknown> {
    const body: Record<string, unknown> = {model: this.model, messages, stream: true, stream_options: {include_usage: true}}
    for (const key of passed) if (this.options[key] !== undefined) body[key] = this.options[key]
    if (body.max_tokens === undefined && typeof this.options.num_predict === 'number' && this.options.num_predict > 0) body.max_tokens = this.options.num_predict
    return body
  }

  async *chat(request: ChatRequest): AsyncIterable<ChatEvent> {
    let response: Response
    try {
      response = await fetch(this.base + '/chat/completions', {method: 'POST', headers: this.headers(), body: JSON.stringify(this.body(request.messages)), signal: request.signal})
    } catch (error) {
      if (isAbortError(error)) throw error
      if (isNetworkError(error)) throw new BackendError('backend_down', downMessage('openai', this.host, networkDetail(error)))
      throw new BackendError('backend_error', 'The request to ' + this.host + ' failed: ' + (error as Error).message)
    }
    if (!response.ok) throw await this.statusError(response)
    const body = response.body
    if (!body) throw new BackendError('stream_cut', 'The endpoint answered without a body.')
    const reader = body.getReader()
    const decoder = new TextDecoder()
    let buffer = ''
    let finishReason: string | undefined
    const usage: Usage = {}
    let ended = false
    try {
      for (;;) {
        let read: Awaited<ReturnType<typeof reader.read>>
        try {
          read = await reader.read()
        } catch (error) {
          if (isAbortError(error)) throw error
          throw new BackendError('stream_cut', 'The answer stopped before its end: the connection to the endpoint was closed mid-stream.')
        }
        if (read.done) break
        buffer += decoder.decode(read.value, {stream: true})
        // Events are separated by a blank line (LF or CRLF).
        let boundary: RegExpExecArray | null
        while ((boundary = /\r?\n\r?\n/.exec(buffer))) {
          const event = buffer.slice(0, boundary.index)
          buffer = buffer.slice(boundary.index + boundary[0].length)
          const data = event
            .split(/\r?\n/)
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).replace(/^ /, ''))
            .join('\n')
          if (data === '') continue
          if (data === '[DONE]') {
            ended = true
            yield {type: 'done', usage: {...usage, ...(finishReason ? {done_reason: finishReason} : {})}}
            return
          }
          let chunk: OpenAIChunk
          try {
            chunk = JSON.parse(data) as OpenAIChunk
          } catch {
            throw new BackendError('backend_error', 'The endpoint sent an event that is not JSON.')
          }
          if (chunk.error) throw new BackendError('backend_error', 'The endpoint reported an error while answering: ' + (typeof chunk.error === 'string' ? chunk.error : chunk.error.message ?? JSON.stringify(chunk.error)))
          const choice = chunk.choices?.[0]
          const text = choice?.delta?.content
          if (typeof text === 'string' && text !== '') yield {type: 'text', text}
          if (choice?.finish_reason) finishReason = choice.finish_reason
          if (chunk.usage) {
            if (typeof chunk.usage.prompt_tokens === 'number') usage.prompt_eval_count = chunk.usage.prompt_tokens
            if (typeof chunk.usage.completion_tokens === 'number') usage.eval_count = chunk.usage.completion_tokens
          }
        }
      }
      // Some servers end the body after the finish chunk without `[DONE]`: that is an end; no finish at all is a cut.
      if (finishReason) {
        ended = true
        yield {type: 'done', usage: {...usage, done_reason: finishReason}}
        return
      }
      throw new BackendError('stream_cut', 'The answer stopped before its end: the endpoint closed the stream without finishing.')
    } finally {
      if (!ended) await reader.cancel().catch(() => undefined)
    }
  }

  private async statusError(response: Response): Promise<BackendError> {
    const text = await response.text().catch(() => '')
    let message = text
    try {
      const parsed = JSON.parse(text) as {error?: string | {message?: string}; message?: string}
      message = typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? parsed.message ?? text)
    } catch {
      // Not JSON: the text is the message.
    }
    if (response.status === 404) return new BackendError('model_missing', missingMessage('openai', this.model, this.host), 404)
    return new BackendError('backend_error', 'The endpoint answered ' + response.status + (message ? ': ' + message : ''), response.status)
  }

  async describe(): Promise<ModelDescription> {
    if (this.described) return this.described
    this.described = {name: this.model}
    return this.described
  }

  async check(): Promise<BackendCheck> {
    const base = {ok: false, backend: 'openai' as const, host: this.host, model: this.model}
    let response: Response
    try {
      response = await fetch(this.base + '/models', {headers: this.headers(), signal: AbortSignal.timeout(10_000)})
    } catch (error) {
      return {...base, reason: 'backend_down', message: downMessage('openai', this.host, isNetworkError(error) ? networkDetail(error) : (error as Error).message)}
    }
    if (!response.ok) {
      // Not every server lists its models (litgpt serve does not): reachable is all we can tell.
      return {...base, ok: true, message: 'The endpoint at ' + this.host + ' is reachable (it does not list its models; answers will tell whether `' + this.model + '` is served).'}
    }
    const list = (await response.json().catch(() => ({}))) as {data?: Array<{id?: string}>}
    const ids = (list.data ?? []).map((entry) => entry.id)
    if (ids.length > 0 && !ids.includes(this.model)) return {...base, reason: 'model_missing', message: missingMessage('openai', this.model, this.host)}
    return {...base, ok: true, message: 'The endpoint at ' + this.host + ' serves `' + this.model + '`.'}
  }
}

interface OpenAIChunk {
  choices?: Array<{delta?: {content?: string | null; role?: string}; finish_reason?: string | null}>
  usage?: {prompt_tokens?: number; completion_tokens?: number}
  error?: string | {message?: string}
}
