import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {BackendError, type ChatEvent, type ModelBackend} from '../src/node/ask/backend.js'
import {OllamaBackend, type OllamaClientKind} from '../src/node/ask/backend-ollama.js'
import {OpenAIBackend} from '../src/node/ask/backend-openai.js'
import {defaultReply, startStandin, tokensOf, type Standin} from './helpers/ollama-standin.js'

// The model backends against the stand-in Ollama: the wire formats as Ollama
// documents them (NDJSON, SSE), errors classified by status and kind (never
// by text), aborts that reach the server at every stage.

/** ollama-js when it is installed; the built-in client always. */
async function clients(): Promise<OllamaClientKind[]> {
  try {
    const specifier = 'ollama'
    await import(specifier)
    return ['ollama-js', 'builtin']
  } catch {
    return ['builtin']
  }
}

const messages = [
  {role: 'system' as const, content: 'Answer from the context.'},
  {role: 'user' as const, content: '<context page="p" title="T">\n<section label="1" page="p" path="T" title="Intro">Text</section>\n</context>\n\nQuestion: What?'}
]

async function collect(backend: ModelBackend, signal = new AbortController().signal): Promise<{text: string; events: ChatEvent[]}> {
  const events: ChatEvent[] = []
  for await (const event of backend.chat({messages, signal})) events.push(event)
  return {text: events.map((event) => (event.type === 'text' ? event.text : '')).join(''), events}
}

async function failure(run: Promise<unknown>): Promise<BackendError> {
  try {
    await run
  } catch (error) {
    if (error instanceof BackendError) return error
    throw error
  }
  throw new Error('expected a failure')
}

let standin: Standin

beforeAll(async () => {
  standin = await startStandin()
})

afterAll(async () => {
  await standin?.close()
})

describe.each(await clients())('Ollama backend (%s client)', (client) => {
  const make = (model = 'qwen2.5:0.5b', options: Record<string, unknown> = {}) => OllamaBackend.create(standin.url, model, options, client)

  it('streams /api/chat NDJSON to the final line, with think:false, options and keep_alive', async () => {
    const backend = await make('qwen2.5:0.5b', {temperature: 0.2, num_ctx: 8192, keep_alive: '10m'})
    expect(backend.client).toBe(client)
    const {text, events} = await collect(backend)
    expect(text).toBe(defaultReply(messages))
    const done = events.at(-1)
    expect(done).toMatchObject({type: 'done', usage: {done_reason: 'stop', eval_count: tokensOf(text).length}})
    const request = standin.generations().at(-1)!
    expect(request.path).toBe('/api/chat')
    expect(request.body).toMatchObject({model: 'qwen2.5:0.5b', stream: true, think: false, keep_alive: '10m', options: {temperature: 0.2, num_ctx: 8192}})
    expect(request.body?.messages).toEqual(messages)
  })

  it('a thinking model streams no thinking when asked not to, and done_reason `length` at num_predict', async () => {
    const backend = await make('qwen3', {num_predict: 5})
    const {text, events} = await collect(backend)
    expect(tokensOf(text)).toHaveLength(5)
    expect(events.at(-1)).toMatchObject({type: 'done', usage: {done_reason: 'length'}})
  })

  it('a missing model is model_missing by its 404, in both spellings, with the exact pull command', async () => {
    for (const style of ['current', 'legacy'] as const) {
      standin.missingStyle = style
      const error = await failure(collect(await make('nope:7b')))
      expect(error.reason).toBe('model_missing')
      expect(error.status).toBe(404)
      expect(error.message).toContain('`ollama pull nope:7b`')
    }
    standin.missingStyle = 'current'
  })

  it('classifies faults: 500, an error line under 200, a cut (EOF and reset), a server that is down', async () => {
    const backend = await make()
    standin.next({status: 500, errorMessage: 'boom'})
    expect(await failure(collect(backend))).toMatchObject({reason: 'backend_error', status: 500})
    standin.next({errorAfter: 2, errorMessage: 'an error was encountered while running the model'})
    const line = await failure(collect(backend))
    expect(line.reason).toBe('backend_error')
    expect(line.message).toContain('an error was encountered while running the model')
    standin.next({cutAfter: 3})
    expect((await failure(collect(backend))).reason).toBe('stream_cut')
    standin.next({cutAfter: 3, cutMode: 'reset'})
    expect((await failure(collect(backend))).reason).toBe('stream_cut')
    const down = await OllamaBackend.create('http://127.0.0.1:9', 'qwen2.5:0.5b', {}, client)
    const error = await failure(collect(down))
    expect(error.reason).toBe('backend_down')
    expect(error.message).toContain('ollama serve')
  })

  it('aborts before the headers (a hanging server) and mid-stream; the server sees each disconnect', async () => {
    const backend = await make()
    standin.next({hang: true})
    const hanging = new AbortController()
    const run = collect(backend, hanging.signal)
    const request = await standin.waitForRequest(standin.generations().length + 1)
    hanging.abort()
    await expect(run).rejects.toMatchObject({name: 'AbortError'})
    await expect.poll(() => request.disconnected, {timeout: 10_000, interval: 10}).toBe(true)

    standin.next({tokenDelayMs: 20})
    const streaming = new AbortController()
    const events: ChatEvent[] = []
    const second = (async () => {
      for await (const event of backend.chat({messages, signal: streaming.signal})) {
        events.push(event)
        if (events.length === 3) streaming.abort()
      }
    })()
    await expect(second).rejects.toMatchObject({name: 'AbortError'})
    const mid = standin.generations().at(-1)!
    await expect.poll(() => mid.disconnected, {timeout: 10_000, interval: 10}).toBe(true)
    expect(mid.tokens).toBeLessThan(tokensOf(defaultReply(messages)).length)
  })

  it('one stream aborted leaves the others of the same backend running', async () => {
    const backend = await make()
    standin.defaults = {tokenDelayMs: 5}
    try {
      const stopped = new AbortController()
      const a = collect(backend, stopped.signal)
      const b = collect(backend)
      setTimeout(() => stopped.abort(), 20)
      await expect(a).rejects.toMatchObject({name: 'AbortError'})
      expect((await b).text).toBe(defaultReply(messages))
    } finally {
      standin.defaults = {}
    }
  })

  it('start-up check: version, model present with digest and context length; the pull hint when missing', async () => {
    const ok = await (await make('llama3.2')).check()
    expect(ok).toMatchObject({ok: true, version: '0.12.6', digest: standin.models[1]!.digest, contextLength: 131072})
    const missing = await (await make('mistral:7b')).check()
    expect(missing.ok).toBe(false)
    expect(missing.reason).toBe('model_missing')
    expect(missing.message).toContain('run `ollama pull mistral:7b`')
    const down = await OllamaBackend.create('http://127.0.0.1:9', 'qwen2.5:0.5b', {}, client)
    const check = await down.check()
    expect(check).toMatchObject({ok: false, reason: 'backend_down'})
    expect(check.message).toContain('`ollama serve`')
    const described = await (await make()).describe()
    expect(described).toMatchObject({name: 'qwen2.5:0.5b', digest: standin.models[0]!.digest, contextLength: 32768, capabilities: ['completion', 'tools']})
  })
})

describe('OpenAI-compatible backend', () => {
  it('streams /v1/chat/completions SSE to [DONE], with usage; accepts a base URL with or without /v1', async () => {
    for (const host of [standin.url, standin.url + '/v1']) {
      const backend = new OpenAIBackend(host, 'llama3.2', {temperature: 0.1, num_predict: 100, seed: 7}, undefined)
      const {text, events} = await collect(backend)
      expect(text).toBe(defaultReply(messages))
      expect(events.at(-1)).toMatchObject({type: 'done', usage: {done_reason: 'stop', eval_count: tokensOf(text).length}})
      const request = standin.generations().at(-1)!
      expect(request.path).toBe('/v1/chat/completions')
      expect(request.body).toMatchObject({model: 'llama3.2', stream: true, stream_options: {include_usage: true}, temperature: 0.1, max_tokens: 100, seed: 7})
      expect(request.body?.num_predict).toBeUndefined()
    }
  })

  it('classifies 404, 500, an error event, a cut, a server that is down; aborts reach the server', async () => {
    expect(await failure(collect(new OpenAIBackend(standin.url, 'nope', {}, undefined)))).toMatchObject({reason: 'model_missing', status: 404})
    const backend = new OpenAIBackend(standin.url, 'llama3.2', {}, undefined)
    standin.next({status: 500})
    expect(await failure(collect(backend))).toMatchObject({reason: 'backend_error', status: 500})
    standin.next({errorAfter: 2, errorMessage: 'out of memory'})
    expect((await failure(collect(backend))).message).toContain('out of memory')
    standin.next({cutAfter: 2})
    expect((await failure(collect(backend))).reason).toBe('stream_cut')
    standin.next({cutAfter: 2, cutMode: 'reset'})
    expect((await failure(collect(backend))).reason).toBe('stream_cut')
    expect((await failure(collect(new OpenAIBackend('http://127.0.0.1:9', 'x', {}, undefined)))).reason).toBe('backend_down')
    standin.next({hang: true})
    const controller = new AbortController()
    const run = collect(backend, controller.signal)
    const request = await standin.waitForRequest(standin.generations().length + 1)
    controller.abort()
    await expect(run).rejects.toMatchObject({name: 'AbortError'})
    await expect.poll(() => request.disconnected, {timeout: 10_000, interval: 10}).toBe(true)
  })

  it('start-up check lists the models', async () => {
    expect(await new OpenAIBackend(standin.url, 'llama3.2:latest', {}, undefined).check()).toMatchObject({ok: true})
    expect(await new OpenAIBackend(standin.url, 'gone', {}, undefined).check()).toMatchObject({ok: false, reason: 'model_missing'})
    expect(await new OpenAIBackend('http://127.0.0.1:9', 'x', {}, undefined).check()).toMatchObject({ok: false, reason: 'backend_down'})
  })
})

describe('the stand-in speaks Ollama', () => {
  it('answers /, /api/version, /api/tags, /api/show, empty chat (load), /api/generate NDJSON, HEAD', async () => {
    expect(await (await fetch(standin.url + '/')).text()).toBe('Ollama is running')
    expect((await fetch(standin.url + '/', {method: 'HEAD'})).status).toBe(200)
    expect(await (await fetch(standin.url + '/api/version')).json()).toEqual({version: '0.12.6'})
    const tags = (await (await fetch(standin.url + '/api/tags')).json()) as {models: Array<{name: string; digest: string; details: {family: string}}>}
    expect(tags.models[0]).toMatchObject({name: 'qwen2.5:0.5b', digest: standin.models[0]!.digest, details: {family: 'qwen2'}})
    const show = await fetch(standin.url + '/api/show', {method: 'POST', body: JSON.stringify({model: 'qwen3'})})
    expect(await show.json()).toMatchObject({capabilities: ['completion', 'tools', 'thinking'], model_info: {'general.architecture': 'qwen3', 'qwen3.context_length': 40960}})
    const missing = await fetch(standin.url + '/api/show', {method: 'POST', body: JSON.stringify({model: 'x'})})
    expect(missing.status).toBe(404)
    expect(await missing.json()).toEqual({error: "model 'x' not found"})
    const load = await fetch(standin.url + '/api/chat', {method: 'POST', body: JSON.stringify({model: 'qwen2.5:0.5b', messages: []})})
    expect(await load.json()).toMatchObject({done: true, done_reason: 'load', message: {role: 'assistant', content: ''}})
    const generate = await fetch(standin.url + '/api/generate', {method: 'POST', body: JSON.stringify({model: 'qwen2.5:0.5b', prompt: 'Hi'})})
    expect(generate.headers.get('content-type')).toBe('application/x-ndjson')
    const lines = (await generate.text()).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(lines.slice(0, -1).every((line) => typeof line.response === 'string' && line.done === false)).toBe(true)
    expect(lines.at(-1)).toMatchObject({done: true, done_reason: 'stop', response: ''})
    expect(Object.keys(lines.at(-1)!)).toEqual(expect.arrayContaining(['total_duration', 'load_duration', 'prompt_eval_count', 'prompt_eval_duration', 'eval_count', 'eval_duration', 'context']))
    const think = await fetch(standin.url + '/api/chat', {method: 'POST', body: JSON.stringify({model: 'llama3.2', think: true, messages: [{role: 'user', content: 'x'}]})})
    expect(think.status).toBe(400)
    expect(await think.json()).toEqual({error: '"llama3.2" does not support thinking'})
    // A thinking model thinks unless told not to (Ollama's default).
    const thinking = await fetch(standin.url + '/api/chat', {method: 'POST', body: JSON.stringify({model: 'qwen3', messages: [{role: 'user', content: 'x'}]})})
    const first = JSON.parse((await thinking.text()).split('\n')[0] as string) as {message: {thinking?: string; content: string}}
    expect(first.message.thinking).toBeTruthy()
    expect(first.message.content).toBe('')
  })
})
