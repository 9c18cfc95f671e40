import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {newId} from '../src/node/ask/ids.js'
import {MongoStore} from '../src/node/ask/store-mongo.js'
import {isoNow, type ConversationStore, type NodeDoc, type SessionDoc} from '../src/node/ask/types.js'
import {loadConfig} from '../src/node/config/load.js'
import {openTestStore, testMongo, uniqueDb, type StoreKind} from './fixtures/ask/setup.js'
import {Project} from './helpers/project.js'

// The two conversation stores behind one interface, held to the same rules.
const mongo = await testMongo()
const kinds: StoreKind[] = mongo ? ['embedded', 'mongo'] : ['embedded']
afterAll(async () => {
  await mongo?.stop()
})

function session(ephemeral = false): SessionDoc {
  const id = newId('s')
  const now = isoNow()
  return {_id: id, tree_id: id, kind: 'session', parent_id: null, ancestors: [], depth: 0, order: Date.now(), title: 'T', page: 'p', ephemeral, created_at: now, updated_at: now}
}

function node(root: SessionDoc, parent?: NodeDoc, order = Date.now()): NodeDoc {
  const now = isoNow()
  return {
    _id: newId('n'), tree_id: root._id, kind: 'question', parent_id: parent?._id ?? root._id, ancestors: parent ? [...parent.ancestors, parent._id] : [root._id],
    depth: parent ? parent.depth + 1 : 1, order, title: 'Q', page: 'p', scope: 'page', question: 'Q?', answer: '', state: 'streaming', attempts: 1,
    sources: [], citations: [], model: {backend: 'ollama', name: 'm', options: {temperature: 0.2, stop: ['x']}}, owner: {id: 'o1', pid: 1, host: 'h'},
    lease_until: isoNow(Date.now() + 1000), created_at: now, updated_at: now, started_at: now
  }
}

describe.each(kinds)('%s store', (kind) => {
  let project: Project
  let store: ConversationStore

  beforeAll(async () => {
    project = new Project({'a.md': '# A\n'})
    store = await openTestStore(kind, await loadConfig(project.dir, {}, {}), mongo, uniqueDb())
    await store.init()
  })

  afterAll(async () => {
    await store?.close()
    project?.dispose()
  })

  it('keeps sessions and trees; conditional updates; immutable is final', async () => {
    const root = session()
    await store.insertSession(root)
    expect(await store.getSession(root._id)).toEqual(root)
    const first = node(root, undefined, 1)
    await store.insertNode(first)
    expect(await store.getNode(first._id)).toEqual(first)
    // Growing: only by the owner, only while streaming.
    expect(await store.updateNode(first._id, {states: ['streaming'], owner: 'other'}, {answer: 'x'})).toBe(false)
    expect(await store.updateNode(first._id, {states: ['streaming'], owner: 'o1'}, {answer: 'Hello'})).toBe(true)
    expect(await store.updateNode(first._id, {states: ['streaming'], owner: 'o1'}, {state: 'immutable', answer: 'Hello world', finished_at: isoNow()}, ['owner', 'lease_until'])).toBe(true)
    const done = (await store.getNode(first._id)) as NodeDoc
    expect(done.state).toBe('immutable')
    expect(done.owner).toBeUndefined()
    expect(done.answer).toBe('Hello world')
    // Nothing changes an immutable node.
    expect(await store.updateNode(first._id, {states: ['streaming', 'failed']}, {answer: 'changed'})).toBe(false)
    await expect(store.updateNode(first._id, {states: ['immutable' as never]}, {answer: 'changed'})).rejects.toThrow()
    expect((await store.getNode(first._id))?.answer).toBe('Hello world')

    const child = node(root, done, 2)
    await store.insertNode(child)
    expect(await store.hasChildren(first._id)).toBe(true)
    expect(await store.hasChildren(child._id)).toBe(false)
    expect((await store.listTree(root._id)).map((item) => item._id)).toEqual([first._id, child._id])
    expect((await store.listStreaming()).map((item) => item._id)).toContain(child._id)
    // Fail, then recall with attempts counted.
    expect(await store.updateNode(child._id, {states: ['streaming'], owner: 'o1'}, {state: 'failed', failure: {reason: 'stream_cut', message: 'cut', at: isoNow()}}, ['owner', 'lease_until'])).toBe(true)
    expect(await store.updateNode(child._id, {states: ['failed']}, {state: 'streaming', answer: ''}, ['failure'], {attempts: 1})).toBe(true)
    const recalled = (await store.getNode(child._id)) as NodeDoc
    expect(recalled).toMatchObject({state: 'streaming', attempts: 2})
    expect(recalled.failure).toBeUndefined()
    expect((await store.listImmutable()).map((item) => item._id)).toContain(first._id)

    expect(await store.updateSession(root._id, {title: 'Renamed'})).toBe(true)
    expect((await store.listSessions()).find((item) => item._id === root._id)?.title).toBe('Renamed')
    expect(await store.deleteSession(root._id)).toBe(true)
    expect(await store.getSession(root._id)).toBeNull()
    expect(await store.getNode(first._id)).toBeNull()
    expect(await store.listTree(root._id)).toEqual([])
    expect(await store.deleteSession(root._id)).toBe(false)
  })

  it('hides ephemeral sessions from lists and exports', async () => {
    const hidden = session(true)
    await store.insertSession(hidden)
    const answered = node(hidden)
    answered.state = 'immutable'
    await store.insertNode(answered)
    expect((await store.listSessions()).some((item) => item._id === hidden._id)).toBe(false)
    expect((await store.listSessions({ephemeral: true})).some((item) => item._id === hidden._id)).toBe(true)
    expect((await store.listImmutable()).some((item) => item._id === answered._id)).toBe(false)
  })
})

// MongoDB's conditional single-document updates are atomic: of concurrent
// recalls of one failed node exactly one wins. FerretDB v1 does not promise
// this (query, then write), so this runs against a real MongoDB only.
const realMongo = Boolean(process.env.TAGPRESS_TEST_MONGODB_URI)
describe.runIf(realMongo)('MongoDB atomic conditional writes', () => {
  it('lets exactly one of concurrent recalls win', async () => {
    const store = new MongoStore(process.env.TAGPRESS_TEST_MONGODB_URI as string, uniqueDb())
    await store.init()
    try {
      const root = session()
      await store.insertSession(root)
      for (let round = 0; round < 20; round++) {
        const failed = {...node(root), state: 'failed' as const}
        await store.insertNode(failed)
        const results = await Promise.all(Array.from({length: 8}, (_, index) => store.updateNode(failed._id, {states: ['failed']}, {state: 'streaming', owner: {id: 'o' + index, pid: 1, host: 'h'}}, [], {attempts: 1})))
        expect(results.filter(Boolean)).toHaveLength(1)
        expect((await store.getNode(failed._id))?.attempts).toBe(2)
      }
    } finally {
      await store.close()
    }
  })
})
