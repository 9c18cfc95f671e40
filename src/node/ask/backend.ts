import type {Config} from '../config/types.js'
import type {FailureReason, Usage} from './types.js'

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant'
  content: string
}

/** What a stream yields: pieces of the answer, then one `done`. */
export type ChatEvent = {type: 'text'; text: string} | {type: 'done'; usage: Usage}

export interface ChatRequest {
  messages: ChatMessage[]
  /** Aborts the request at any stage: before the headers, while streaming. */
  signal: AbortSignal
}

export interface ModelDescription {
  name: string
  digest?: string
  /** The model's maximum context (tokens), when the backend says. */
  contextLength?: number
  capabilities?: string[]
}

/** The outcome of the start-up check: what works, and exactly what to run when something does not. */
export interface BackendCheck {
  ok: boolean
  backend: 'ollama' | 'openai'
  host: string
  model: string
  version?: string
  digest?: string
  contextLength?: number
  reason?: FailureReason
  /** A plain sentence for people, with the command to run. */
  message: string
}

/**
 * A model backend: streams the answer to a chat, aborts on the signal, and
 * describes its model. Each `chat` call is an independent request (for
 * Ollama: its own client), so aborting one never touches another.
 */
export interface ModelBackend {
  readonly kind: 'ollama' | 'openai'
  readonly host: string
  readonly model: string
  /** Options sent with every request (SPEC: stored with every answer). */
  readonly options: Record<string, unknown>
  chat(request: ChatRequest): AsyncIterable<ChatEvent>
  /** Name, digest, context length (cached after the first success). */
  describe(): Promise<ModelDescription>
  check(): Promise<BackendCheck>
}

/** A backend failure, classified. Matching is on HTTP status and error kinds, never on message text. */
export class BackendError extends Error {
  override name = 'BackendError'
  constructor(
    readonly reason: FailureReason,
    message: string,
    readonly status?: number
  ) {
    super(message)
  }
}

/** The backend the config names. */
export async function createBackend(config: Config): Promise<ModelBackend> {
  if (config.llm.backend === 'openai') {
    const {OpenAIBackend} = await import('./backend-openai.js')
    return new OpenAIBackend(config.llm.host, config.llm.model, config.llm.options)
  }
  const {OllamaBackend} = await import('./backend-ollama.js')
  return OllamaBackend.create(config.llm.host, config.llm.model, config.llm.options)
}

/** Text for an unreachable backend: what to start, and where we looked. */
export function downMessage(kind: 'ollama' | 'openai', host: string, detail: string): string {
  if (kind === 'ollama') {
    return 'Cannot reach Ollama at ' + host + ' (' + detail + '). Start it with `ollama serve` (or the Ollama app), or set OLLAMA_HOST / llm.host to where it runs.'
  }
  return 'Cannot reach the OpenAI-compatible endpoint at ' + host + ' (' + detail + '). Start the model server (for example `litgpt serve`, `llama-server` or `vllm serve`), or set llm.host to its base URL.'
}

export function missingMessage(kind: 'ollama' | 'openai', model: string, host: string): string {
  if (kind === 'ollama') return 'The model `' + model + '` is not pulled on the Ollama server at ' + host + ': run `ollama pull ' + model + '` (or set TAGPRESS_MODEL / llm.model to a model it has).'
  return 'The endpoint at ' + host + ' does not serve the model `' + model + '`: set llm.model to a model it lists at /v1/models.'
}

/** The cause of a failed `fetch` (undici wraps it: `TypeError: fetch failed`, cause `ECONNREFUSED`). */
export function networkDetail(error: unknown): string {
  const cause = (error as {cause?: {code?: string; message?: string}}).cause
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error)
}

/** Whether an error is a network failure before any answer (refused, unreachable, DNS). */
export function isNetworkError(error: unknown): boolean {
  if (!(error instanceof TypeError)) return false
  const code = (error as {cause?: {code?: string}}).cause?.code
  return error.message === 'fetch failed' || (code !== undefined && /^(E|UND_ERR_CONNECT)/.test(code))
}

export function isAbortError(error: unknown): boolean {
  return (error as {name?: string} | undefined)?.name === 'AbortError'
}
