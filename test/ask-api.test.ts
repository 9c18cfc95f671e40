import {request as httpRequest} from 'node:http'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {call, finalBlocks, openStream} from './fixtures/ask/client.js'
import {startHarness, testMongo, type Harness, type StoreKind} from './fixtures/ask/setup.js'
import {startStandin, tokensOf, type Standin} from './helpers/ollama-standin.js'
import {splitAnswer} from '../src/node/ask/blocks.js'

// The conversation engine over HTTP, on both stores: the embedded one in
// .tagpress/ and MongoDB (FerretDB through the `mongodb` driver, or a real
// MongoDB with TAGPRESS_TEST_MONGODB_URI). In CI both run, never skip.
const mongo = await testMongo()
const kinds: StoreKind[] = mongo ? ['embedded', 'mongo'] : ['embedded']
afterAll(async () => {
  await mongo?.stop()
})

const answer = [
  'Install it with npm [§2].',
  '',
  '- Run `npm install tagpress`.',
  '- Then build.',
  '',
  '```bash',
  'npx tagpress build',
  '```',
  '',
  'That is all.'
].join('\n')

describe.each(kinds)('ask API on the %s store', (kind) => {
  let standin: Standin
  let harness: Harness

  beforeAll(async () => {
    standin = await startStandin()
    standin.reply = () => answer
    // The default limit (30 asks a minute) has its own test below.
    harness = await startHarness(standin, kind, mongo, {rateLimit: {max: 1000, windowMs: 60_000}})
  })

  afterAll(async () => {
    await harness?.close()
    await standin?.close()
  })

  afterEach(() => {
    standin.defaults = {}
  })

  async function ask(body: Record<string, unknown>): Promise<{node_id: string; session_id: string; node: Record<string, unknown>}> {
    const result = await call(harness.url, 'POST', '/api/ask', body)
    expect(result.status, JSON.stringify(result.body)).toBe(201)
    return result.body as {node_id: string; session_id: string; node: Record<string, unknown>}
  }

  async function node(id: string): Promise<Record<string, unknown>> {
    const result = await call(harness.url, 'GET', '/api/nodes/' + id)
    expect(result.status).toBe(200)
    return result.body.node as Record<string, unknown>
  }

  async function settle(id: string): Promise<Record<string, unknown>> {
    const stream = await openStream(harness.url + '/api/nodes/' + id + '/stream')
    await stream.ended
    return node(id)
  }

  it('ask → streaming → immutable, the answer in final blocks, citations mapped to anchors', async () => {
    standin.defaults = {tokenDelayMs: 5}
    const created = await ask({page: 'guide/intro', question: 'How do I install it?'})
    expect(created.node.state).toBe('streaming')
    expect(created.node.answer).toBe('')
    expect(created.node.attempts).toBe(1)
    // Persisted at once.
    expect((await harness.store.getNode(created.node_id))?.state).toBe('streaming')

    const stream = await openStream(harness.url + '/api/nodes/' + created.node_id + '/stream')
    expect(stream.status).toBe(200)
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/)
    const start = await stream.waitFor('start')
    expect(start.data.node_id).toBe(created.node_id)
    const sources = start.data.sources as Array<{label: string; anchor: string; href: string}>
    expect(sources.length).toBeGreaterThan(0)
    expect(sources.map((source) => source.anchor)).toContain('installing')
    // Midway, the stored node grows (batched persistence).
    await stream.waitFor((event) => event.event === 'answer' && (event.data.delta as string).length > 0)
    await stream.ended
    const names = stream.events.map((event) => event.event)
    expect(names[0]).toBe('start')
    expect(names.at(-1)).toBe('done')
    expect(names.filter((name) => name === 'answer').length).toBeGreaterThanOrEqual(tokensOf(answer).length)
    // Sequence numbers and ids in order, none missing.
    expect(stream.events.map((event) => event.data.seq)).toEqual(stream.events.map((_, index) => index + 1))
    expect(finalBlocks(stream.events)).toEqual(splitAnswer(answer).map((block) => block.md))
    const done = stream.events.at(-1)!.data
    expect(done.state).toBe('immutable')
    const stored = await node(created.node_id)
    expect(stored.state).toBe('immutable')
    expect(stored.answer).toBe(answer)
    expect(stored.finished_at).toBeTruthy()
    expect((stored.model as {name: string; digest?: string}).name).toBe('qwen2.5:0.5b')
    expect((stored.model as {digest?: string}).digest).toBe(standin.models[0]!.digest)
    const citations = stored.citations as Array<{label: string; anchor: string; href: string}>
    const cited = sources.find((source) => source.label === '2')
    if (cited) expect(citations).toEqual([cited])
    for (const citation of citations) expect(citation.href).toBe('/guide/intro.html#' + citation.anchor)
    // The backend got think:false, our model, and the page as delimited data.
    const request = standin.generations().at(-1)!
    expect(request.body?.think).toBe(false)
    expect(request.body?.model).toBe('qwen2.5:0.5b')
    const messages = request.body?.messages as Array<{role: string; content: string}>
    expect(messages[0]!.role).toBe('system')
    expect(messages.at(-1)!.content).toMatch(/^<context page="guide\/intro"/)
    expect(messages.at(-1)!.content).toMatch(/Question: How do I install it\?$/)
  })

  it('every block is final once and never changes; the open block only grows into finals', async () => {
    standin.defaults = {tokenDelayMs: 1}
    const created = await ask({page: 'guide/intro', question: 'Blocks?'})
    const stream = await openStream(harness.url + '/api/nodes/' + created.node_id + '/stream')
    await stream.ended
    const finals = new Map<number, string>()
    let expected = 0
    for (const event of stream.events.filter((item) => item.event === 'answer')) {
      for (const block of event.data.final as Array<{i: number; md: string}>) {
        expect(finals.has(block.i)).toBe(false)
        expect(block.i).toBe(expected++)
        finals.set(block.i, block.md)
      }
      const open = event.data.open as {i: number; md: string} | null
      if (open) expect(open.i).toBe(expected)
    }
    expect([...finals.values()].join('\n\n')).toBe(splitAnswer(answer).map((block) => block.md).join('\n\n'))
  })

  it('two subscribers get identical streams, and a late one gets it from the start', async () => {
    standin.defaults = {tokenDelayMs: 8}
    const created = await ask({page: 'guide/intro', question: 'Two tabs?'})
    const first = await openStream(harness.url + '/api/nodes/' + created.node_id + '/stream')
    await first.waitFor('answer')
    const second = await openStream(harness.url + '/api/nodes/' + created.node_id + '/stream')
    await Promise.all([first.ended, second.ended])
    const strip = (events: typeof first.events) => events.map(({id, event, data}) => ({id, event, data}))
    expect(strip(second.events)).toEqual(strip(first.events))
    expect(first.events.at(-1)!.event).toBe('done')
    // After the end, a third subscriber still gets the very same events (kept in memory a while).
    const third = await openStream(harness.url + '/api/nodes/' + created.node_id + '/stream')
    await third.ended
    expect(strip(third.events)).toEqual(strip(first.events))
    // Reconnecting after the last event: 204, EventSource stops.
    const lastId = first.events.at(-1)!.id as string
    const again = await openStream(harness.url + '/api/nodes/' + created.node_id + '/stream', {'last-event-id': lastId})
    expect(again.status).toBe(204)
    // Resuming mid-stream sends only what came after.
    const middle = first.events[3]!.id as string
    const resumed = await openStream(harness.url + '/api/nodes/' + created.node_id + '/stream', {'last-event-id': middle})
    await resumed.ended
    expect(strip(resumed.events)).toEqual(strip(first.events.slice(4)))
  })

  it('a cut stream fails the node; recall answers it again (attempts counted); the stored answer is the new one', async () => {
    standin.next({cutAfter: 4, tokenDelayMs: 2})
    const created = await ask({page: 'guide/intro', question: 'Cut?'})
    const failedNode = await settle(created.node_id)
    expect(failedNode.state).toBe('failed')
    expect((failedNode.failure as {reason: string}).reason).toBe('stream_cut')
    expect(failedNode.answer).toBe(tokensOf(answer).slice(0, 4).join(''))

    const stream = await openStream(harness.url + '/api/nodes/' + created.node_id + '/stream')
    await stream.ended
    expect(stream.events.at(-1)!.event).toBe('failed')
    expect(stream.events.at(-1)!.data.recallable).toBe(true)

    const recalled = await call(harness.url, 'POST', '/api/nodes/' + created.node_id + '/recall')
    expect(recalled.status).toBe(200)
    expect((recalled.body.node as {state: string}).state).toBe('streaming')
    const done = await settle(created.node_id)
    expect(done.state).toBe('immutable')
    expect(done.attempts).toBe(2)
    expect(done.answer).toBe(answer)
    expect(done.failure).toBeUndefined()

    // Other faults end the same way, each with its reason.
    standin.next({cutAfter: 2, cutMode: 'reset'})
    expect(((await settle((await ask({page: 'guide/intro', question: 'Reset?'})).node_id)).failure as {reason: string}).reason).toBe('stream_cut')
    standin.next({errorAfter: 3, errorMessage: 'an error was encountered while running the model'})
    const errored = await settle((await ask({page: 'guide/intro', question: 'Error line?'})).node_id)
    expect((errored.failure as {reason: string; message: string}).reason).toBe('backend_error')
    expect((errored.failure as {message: string}).message).toMatch(/an error was encountered while running the model/)
    standin.next({status: 500})
    const five = await settle((await ask({page: 'guide/intro', question: 'Five hundred?'})).node_id)
    expect(five.failure).toMatchObject({reason: 'backend_error', status: 500})
  })

  it('of concurrent recalls of one failed node, exactly one wins', async () => {
    standin.next({cutAfter: 1})
    const created = await ask({page: 'guide/intro', question: 'Race?'})
    await settle(created.node_id)
    const results = await Promise.all(Array.from({length: 6}, () => call(harness.url, 'POST', '/api/nodes/' + created.node_id + '/recall')))
    expect(results.map((result) => result.status).sort()).toEqual([200, 409, 409, 409, 409, 409])
    const done = await settle(created.node_id)
    expect(done).toMatchObject({state: 'immutable', attempts: 2})
  })

  it('a missing model fails with model_missing and the exact `ollama pull` command, in both 404 spellings', async () => {
    for (const style of ['current', 'legacy'] as const) {
      standin.missingStyle = style
      const other = await startHarness(standin, kind, mongo, {model: 'nope:1b', project: harness.project})
      try {
        const created = await call(other.url, 'POST', '/api/ask', {page: 'guide/intro', question: 'Missing?'})
        const stream = await openStream(other.url + '/api/nodes/' + created.body.node_id + '/stream')
        await stream.ended
        const failed = stream.events.at(-1)!
        expect(failed.event).toBe('failed')
        expect(failed.data.reason).toBe('model_missing')
        expect(failed.data.message).toContain('`ollama pull nope:1b`')
      } finally {
        await other.close()
      }
    }
    standin.missingStyle = 'current'
  })

  it('replies go only under immutable or failed nodes, with the ancestors as history', async () => {
    standin.defaults = {tokenDelayMs: 30}
    const root = await ask({page: 'guide/intro', question: 'First question?'})
    // Still streaming: no reply.
    const early = await call(harness.url, 'POST', '/api/nodes/' + root.node_id + '/reply', {question: 'Too early?'})
    expect(early.status).toBe(409)
    expect(early.body.code).toBe('parent_streaming')
    standin.defaults = {}
    await settle(root.node_id)

    const child = await call(harness.url, 'POST', '/api/nodes/' + root.node_id + '/reply', {question: 'And then?'})
    expect(child.status).toBe(201)
    const childNode = child.body.node as {parent_id: string; ancestors: string[]; tree_id: string; depth: number}
    expect(childNode.parent_id).toBe(root.node_id)
    expect(childNode.ancestors).toEqual([root.session_id, root.node_id])
    expect(childNode.depth).toBe(2)
    await settle(child.body.node_id as string)
    const history = standin.generations().at(-1)!.body?.messages as Array<{role: string; content: string}>
    expect(history.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'user'])
    expect(history[1]!.content).toBe('Question: First question?')
    expect(history[2]!.content).toBe(answer)

    // Under a failed node: allowed, and then that node cannot be recalled (409).
    standin.next({cutAfter: 1})
    const broken = await ask({session_id: root.session_id, page: 'guide/intro', question: 'Will fail?'})
    await settle(broken.node_id)
    const underFailed = await call(harness.url, 'POST', '/api/nodes/' + broken.node_id + '/reply', {question: 'Reply to a failure'})
    expect(underFailed.status).toBe(201)
    await settle(underFailed.body.node_id as string)
    const refused = await call(harness.url, 'POST', '/api/nodes/' + broken.node_id + '/recall')
    expect(refused.status).toBe(409)
    expect(refused.body.code).toBe('has_replies')
    // The replay of that failed node says it is no longer recallable.
    const replay = await openStream(harness.url + '/api/nodes/' + broken.node_id + '/stream')
    await replay.ended
    expect(replay.events.at(-1)!.data.recallable).toBe(false)

    // The tree: flat and nested.
    const tree = await call(harness.url, 'GET', '/api/trees/' + root.session_id)
    expect(tree.status).toBe(200)
    const nested = tree.body.tree as Array<{_id: string; children: Array<{_id: string}>}>
    expect(nested.map((item) => item._id)).toEqual([root.node_id, broken.node_id])
    expect(nested[0]!.children.map((item) => item._id)).toEqual([child.body.node_id])
    expect(nested[1]!.children.map((item) => item._id)).toEqual([underFailed.body.node_id])
  })

  it('an immutable answer cannot be modified through any path', async () => {
    const created = await ask({page: 'guide/intro', question: 'Immutable?'})
    const done = await settle(created.node_id)
    expect(done.state).toBe('immutable')
    for (const method of ['PUT', 'PATCH', 'DELETE', 'POST']) {
      const result = await call(harness.url, method, '/api/nodes/' + created.node_id, {answer: 'changed'})
      expect(result.status).toBe(405)
    }
    expect((await call(harness.url, 'POST', '/api/nodes/' + created.node_id + '/recall')).status).toBe(409)
    expect((await call(harness.url, 'POST', '/api/nodes/' + created.node_id + '/stop')).status).toBe(409)
    // Not through the store either: no condition admits an immutable node.
    expect(await harness.store.updateNode(created.node_id, {states: ['streaming', 'failed']}, {answer: 'changed'})).toBe(false)
    await expect(harness.store.updateNode(created.node_id, {states: ['immutable' as never]}, {answer: 'changed'})).rejects.toThrow(/immutable/)
    expect((await node(created.node_id)).answer).toBe(answer)
  })

  it('stop aborts the backend request (the stand-in sees the disconnect) and fails the node as stopped', async () => {
    standin.defaults = {tokenDelayMs: 40}
    const before = standin.generations().filter((request) => request.disconnected).length
    const created = await ask({page: 'guide/intro', question: 'Stop me?'})
    const stream = await openStream(harness.url + '/api/nodes/' + created.node_id + '/stream')
    await stream.waitFor('answer')
    const stopped = await call(harness.url, 'POST', '/api/nodes/' + created.node_id + '/stop')
    expect(stopped.status).toBe(200)
    expect((stopped.body.node as {state: string}).state).toBe('failed')
    expect(((stopped.body.node as {failure: {reason: string}}).failure).reason).toBe('stopped')
    await stream.ended
    expect(stream.events.at(-1)!.data.reason).toBe('stopped')
    await standin.waitForDisconnect()
    const request = standin.generations().find((item) => item.body?.messages && JSON.stringify(item.body.messages).includes('Stop me?'))!
    expect(request.disconnected).toBe(true)
    expect(request.tokens).toBeLessThan(tokensOf(answer).length)
    expect(standin.generations().filter((item) => item.disconnected).length).toBe(before + 1)
  })

  it('stop aborts a request still waiting for headers (model loading)', async () => {
    standin.next({hang: true})
    const count = standin.generations().length
    const created = await ask({page: 'guide/intro', question: 'Hang?'})
    await standin.waitForRequest(count + 1)
    const stopped = await call(harness.url, 'POST', '/api/nodes/' + created.node_id + '/stop')
    expect(stopped.status).toBe(200)
    const request = standin.generations().at(-1)!
    await expect.poll(() => request.disconnected, {timeout: 10_000, interval: 10}).toBe(true)
  })

  it('sessions: create, list, rename, delete (with their trees)', async () => {
    const created = await call(harness.url, 'POST', '/api/sessions', {title: 'My session', page: 'guide/intro'})
    expect(created.status).toBe(201)
    const id = (created.body.session as {_id: string})._id
    const renamed = await call(harness.url, 'PATCH', '/api/sessions/' + id, {title: 'Renamed'})
    expect((renamed.body.session as {title: string}).title).toBe('Renamed')
    const asked = await ask({session_id: id, page: 'guide/intro', question: 'In a session?'})
    await settle(asked.node_id)
    const list = await call(harness.url, 'GET', '/api/sessions')
    expect((list.body.sessions as Array<{_id: string; title: string}>).find((session) => session._id === id)?.title).toBe('Renamed')
    expect((await call(harness.url, 'DELETE', '/api/sessions/' + id)).status).toBe(200)
    expect((await call(harness.url, 'GET', '/api/trees/' + id)).status).toBe(404)
    expect((await call(harness.url, 'GET', '/api/nodes/' + asked.node_id)).status).toBe(404)
    expect((await call(harness.url, 'DELETE', '/api/sessions/' + id)).status).toBe(404)
  })

  it('an ephemeral session is removed when its stream closes before any answer exists', async () => {
    // The model never answers (a hang, not a delay: under load a delay ran out before the close
    // was seen, an answer arrived, and the session was rightly kept).
    standin.next({hang: true})
    const created = await ask({page: 'guide/intro', question: 'Ephemeral?', ephemeral: true})
    const listed = await call(harness.url, 'GET', '/api/sessions')
    expect((listed.body.sessions as Array<{_id: string}>).some((session) => session._id === created.session_id)).toBe(false)
    const stream = await openStream(harness.url + '/api/nodes/' + created.node_id + '/stream')
    await stream.waitFor('start')
    stream.close()
    await expect.poll(async () => (await call(harness.url, 'GET', '/api/trees/' + created.session_id)).status, {timeout: 10_000, interval: 20}).toBe(404)
    // With an answer, it stays (until the cleanup job finds it idle).
    const kept = await ask({page: 'guide/intro', question: 'Ephemeral with answer?', ephemeral: true})
    await settle(kept.node_id)
    expect((await call(harness.url, 'GET', '/api/trees/' + kept.session_id)).status).toBe(200)
    const engine = await harness.api.ready
    expect((await engine.cleanup(Date.now() + engine.limits.ephemeralIdleMs + 1000)).removed).toBeGreaterThanOrEqual(1)
    expect((await call(harness.url, 'GET', '/api/trees/' + kept.session_id)).status).toBe(404)
  })

  it('JSON errors with status codes and input limits', async () => {
    expect((await call(harness.url, 'POST', '/api/ask', {page: 'guide/intro'})).body).toMatchObject({code: 'question_required'})
    const long = await call(harness.url, 'POST', '/api/ask', {page: 'guide/intro', question: 'x'.repeat(2001)})
    expect(long.status).toBe(400)
    expect(long.body.code).toBe('question_too_long')
    const big = await call(harness.url, 'POST', '/api/ask', {page: 'guide/intro', question: 'q', pad: 'x'.repeat(20_000)})
    expect(big.status).toBe(413)
    expect((await call(harness.url, 'POST', '/api/ask', '{not json')).status).toBe(400)
    expect((await call(harness.url, 'POST', '/api/ask', JSON.stringify({page: 'guide/intro', question: 'q'}), {'content-type': 'text/plain'})).status).toBe(415)
    expect((await call(harness.url, 'POST', '/api/ask', {page: 'nope/missing', question: 'q'})).status).toBe(404)
    expect((await call(harness.url, 'POST', '/api/ask', {page: 'guide/intro', question: 'q', session_id: 's_00000000000000000000'})).status).toBe(404)
    expect((await call(harness.url, 'GET', '/api/nodes/../../etc/passwd')).status).toBe(404)
    expect((await call(harness.url, 'GET', '/api/nodes/n_zzzzzzzzzzzzzzzzzzzz/stream')).status).toBe(404)
    expect((await call(harness.url, 'GET', '/api/ask')).status).toBe(405)
    // Another origin cannot post; another Host name is refused (DNS rebinding).
    expect((await call(harness.url, 'POST', '/api/sessions', {}, {origin: 'http://evil.example'})).status).toBe(403)
    const rebinding = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(harness.url + '/api/sessions', {headers: {host: 'evil.example'}}, (response) => {
        response.resume()
        resolve(response.statusCode ?? 0)
      })
      request.on('error', reject)
      request.end()
    })
    expect(rebinding).toBe(403)
  })
})

describe.each(kinds)('rate limit and token on the %s store', (kind) => {
  let standin: Standin

  beforeAll(async () => {
    standin = await startStandin()
  })

  afterAll(async () => {
    await standin?.close()
  })

  it('gives 429 with Retry-After past the limit (default 30 a minute)', async () => {
    const harness = await startHarness(standin, kind, mongo)
    try {
      const statuses: number[] = []
      let retryAfter: string | null = null
      for (let index = 0; index < 31; index++) {
        const result = await call(harness.url, 'POST', '/api/ask', {page: 'guide/intro', question: 'Question ' + index + '?', ephemeral: true})
        statuses.push(result.status)
        if (result.status === 429) {
          retryAfter = result.headers.get('retry-after')
          expect(result.body.code).toBe('rate_limited')
        }
      }
      expect(statuses.slice(0, 30).every((status) => status === 201)).toBe(true)
      expect(statuses[30]).toBe(429)
      expect(Number(retryAfter)).toBeGreaterThan(0)
      expect(Number(retryAfter)).toBeLessThanOrEqual(60)
    } finally {
      await harness.close()
    }
  })

  it('requires the bearer token when bound beyond loopback', async () => {
    const harness = await startHarness(standin, kind, mongo, {requireToken: true, token: 'secret-token'})
    try {
      expect((await call(harness.url, 'GET', '/api/sessions')).status).toBe(401)
      expect((await call(harness.url, 'GET', '/api/sessions', undefined, {authorization: 'Bearer wrong'})).status).toBe(401)
      expect((await call(harness.url, 'GET', '/api/sessions', undefined, {authorization: 'Bearer secret-token'})).status).toBe(200)
      expect((await call(harness.url, 'GET', '/api/sessions?token=secret-token')).status).toBe(200)
    } finally {
      await harness.close()
    }
  })
})
