// The tree store's parts: orders, rendering, URI masking (no server), and the
// sync's write paths against the test server with synthetic files.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {mongoAvailability, startTestMongo, type TestMongo} from './helpers/mongo.js'
import {DocumentCache} from '../src/node/mongo/cache.js'
import {fileDocuments} from '../src/node/mongo/documents.js'
import {assignOrders} from '../src/node/mongo/orders.js'
import type {DocumentNode} from '../src/node/mongo/schema.js'
import {TreeStore} from '../src/node/mongo/store.js'
import {syncDocuments} from '../src/node/mongo/sync.js'
import {assembleTrees, pathTo, renderTree, subtree} from '../src/node/mongo/tree.js'
import {maskUri, scrub} from '../src/node/mongo/uri.js'
import type {PublishedFile} from '../src/node/outputs/types.js'

/** A published file as the build hands it over, made up: `sections` as `[level, title]`, Q/As as `[section index, question, answer]`. */
function fakeFile(fileId: string, sections: Array<[number, string]>, qas: Array<[number, string, string]>, version = 'v1'): PublishedFile {
  const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')
  const built: Array<{number: string; level: number; title: string; text: string; anchor: string; chapterTree: string[]; slugPath: string; parent: number}> = []
  const counts = new Map<number, number>()
  sections.forEach(([level, title]) => {
    let parent = built.length - 1
    while (parent >= 0 && (built[parent]?.level ?? 0) >= level) parent = built[parent]?.parent ?? -1
    const count = (counts.get(parent) ?? 0) + 1
    counts.set(parent, count)
    const above = built[parent]
    built.push({
      number: above ? above.number + '.' + count : String(count),
      level, title, text: title, anchor: slug(title),
      chapterTree: [...(above?.chapterTree ?? []), title],
      slugPath: (above ? above.slugPath + '/' : '') + slug(title),
      parent
    })
  })
  const qa = qas.map(([section, question, answer], index) => ({
    id: fileId + '#q-' + slug(question), anchor: 'q-' + slug(question), question, answer, questionText: question,
    section, line: index + 1, questionHtml: '<p>' + question + '</p>', answerHtml: '<p>' + answer + '</p>', media: []
  }))
  return {
    source: fileId + '.md',
    key: fileId + ':' + version + ':' + JSON.stringify([sections, qas]),
    meta: {fileId, title: sections[0]?.[1] ?? fileId, description: '', settings: {}} as unknown as PublishedFile['meta'],
    time: 0,
    detail: () => ({sections: built, qa, code: []}),
    parts: () => ({html: '', blocks: '', chapters: '', qa: '', search: '', detail: ''})
  }
}

describe('orders', () => {
  it('keeps every old value that still sorts, and fits new nodes between their neighbours', () => {
    expect(assignOrders(['a', 'b', 'c'], new Map())).toEqual([0, 1, 2])
    const old = new Map([['a', 0], ['b', 1], ['c', 2]])
    expect(assignOrders(['a', 'x', 'b', 'c'], old)).toEqual([0, 0.5, 1, 2])
    expect(assignOrders(['x', 'a', 'b', 'c'], old)).toEqual([-1, 0, 1, 2])
    expect(assignOrders(['a', 'b', 'c', 'x', 'y'], old)).toEqual([0, 1, 2, 3, 4])
    expect(assignOrders(['a', 'x', 'y', 'c'], new Map([['a', 0], ['c', 10]]))).toEqual([0, 1, 2, 10])
    // A moved node gets a new value; the longest run keeps theirs.
    expect(assignOrders(['b', 'c', 'a'], old)).toEqual([1, 2, 3])
  })

  it('renumbers only when floating point runs out of room', () => {
    let ids = ['a', 'z']
    let orders = assignOrders(ids, new Map())
    for (let i = 0; i < 80; i++) {
      const next = [ids[0] as string, 'n' + i, ...ids.slice(1)]
      orders = assignOrders(next, new Map(ids.map((id, index) => [id, orders[index] as number])))
      ids = next
      for (let k = 1; k < orders.length; k++) expect(orders[k] as number).toBeGreaterThan(orders[k - 1] as number)
    }
  })
})

describe('trees in memory', () => {
  const file = fakeFile('guide/intro', [[1, 'Intro'], [2, 'Install'], [3, 'On Linux'], [2, 'Use'], [2, 'Install']], [[1, 'How do I install it?', 'With npm.'], [2, 'And on Linux?', 'The same.'], [3, 'How do I use it?', 'Build.']])
  const docs = fileDocuments(file, 'p', file.detail())

  it('builds file → sections → Q/As with stable ids, ancestors and chapter paths', () => {
    expect(docs.map((doc) => [doc._id, doc.kind, doc.path, doc.order, doc.depth])).toEqual([
      ['guide/intro', 'file', '', 0, 0],
      ['guide/intro#intro', 'section', '1', 1, 1],
      ['guide/intro#intro/install', 'section', '1.1', 2, 2],
      ['guide/intro#q-how-do-i-install-it', 'qa', '1.1', 3, 3],
      ['guide/intro#intro/install/on-linux', 'section', '1.1.1', 4, 3],
      ['guide/intro#q-and-on-linux', 'qa', '1.1.1', 5, 4],
      ['guide/intro#intro/use', 'section', '1.2', 6, 2],
      ['guide/intro#q-how-do-i-use-it', 'qa', '1.2', 7, 3],
      // A repeated title: the slug path gets ~2.
      ['guide/intro#intro/install~2', 'section', '1.3', 8, 2]
    ])
    const qa = docs[5] as DocumentNode
    expect(qa.ancestors).toEqual(['guide/intro', 'guide/intro#intro', 'guide/intro#intro/install', 'guide/intro#intro/install/on-linux'])
    expect(qa.parent_id).toBe('guide/intro#intro/install/on-linux')
    expect(new Set(docs.map((doc) => doc.content_hash)).size).toBe(docs.length)
  })

  it('renders like anytree RenderTree, and finds subtrees and paths', () => {
    const [tree] = assembleTrees([...docs].reverse())
    expect(tree).toBeDefined()
    expect(renderTree(tree!)).toBe(
      [
        'guide/intro — Intro',
        '└── 1 Intro',
        '    ├── 1.1 Install',
        '    │   ├── Q: How do I install it?',
        '    │   └── 1.1.1 On Linux',
        '    │       └── Q: And on Linux?',
        '    ├── 1.2 Use',
        '    │   └── Q: How do I use it?',
        '    └── 1.3 Install',
        ''
      ].join('\n')
    )
    expect(renderTree(tree!, undefined, 2).split('\n').length).toBe(6)
    expect(subtree(tree!, 'guide/intro#intro/use')?.children.map((child) => child.doc._id)).toEqual(['guide/intro#q-how-do-i-use-it'])
    expect(pathTo(tree!, 'guide/intro#q-and-on-linux').map((node) => node.doc._id)).toEqual(['guide/intro', 'guide/intro#intro', 'guide/intro#intro/install', 'guide/intro#intro/install/on-linux', 'guide/intro#q-and-on-linux'])
  })
})

describe('connection strings', () => {
  it('never show a password', () => {
    expect(maskUri('mongodb://app:s3cret@db.example:27017/?authSource=admin')).toBe('mongodb://app:****@db.example:27017/?authSource=admin')
    expect(maskUri('mongodb+srv://app:p%40ss@cluster0.example.net/tagpress')).toBe('mongodb+srv://app:****@cluster0.example.net/tagpress')
    expect(maskUri('mongodb://app@db/')).toBe('mongodb://app@db/')
    expect(maskUri('mongodb://db/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:abc')).toBe('mongodb://db/?authMechanism=MONGODB-AWS&authMechanismProperties=****')
    expect(scrub('bad auth for p@ss and p%40ss', 'mongodb://app:p%40ss@db/')).toBe('bad auth for **** and ****')
  })
})

const available = mongoAvailability()

describe.skipIf(!available.ok)('sync write paths', () => {
  let server: TestMongo
  let stateDir: string

  beforeAll(async () => {
    server = await startTestMongo()
    stateDir = mkdtempSync(path.join(tmpdir(), 'tagpress-state-'))
  })

  afterAll(async () => {
    await server?.stop()
    rmSync(stateDir, {recursive: true, force: true})
  })

  it('many rewrites at once (FerretDB: delete + insert batches) keep ids and created_at, and converge', async () => {
    const store = await TreeStore.connect(server.uri, server.database('many'))
    try {
      await store.ensureIndexes()
      const cache = DocumentCache.for(path.join(stateDir, 'many'), 'p')
      const files = (version: string) => Array.from({length: 120}, (_, i) => fakeFile('f' + i, [[1, 'Title ' + i]], [[0, 'Question ' + i + '?', 'Answer ' + i + ' ' + version]], version))
      const first = await syncDocuments(store, cache, 'p', files('v1'), {deleteVanished: true})
      expect(first).toEqual({inserted: 360, updated: 0, deleted: 0, unchanged: 0})
      const created = await store.nodes.findOne({_id: 'f7#q-question-7'})
      await new Promise((resolve) => setTimeout(resolve, 20))
      const second = await syncDocuments(store, cache, 'p', files('v2'), {deleteVanished: true})
      expect(second).toEqual({inserted: 0, updated: 120, deleted: 0, unchanged: 240})
      const after = await store.nodes.findOne({_id: 'f7#q-question-7'})
      expect((after as {answer?: string} | null)?.answer).toBe('Answer 7 v2')
      expect(after?.created_at).toEqual(created?.created_at)
      expect((after?.updated_at as Date).getTime()).toBeGreaterThan((created?.updated_at as Date).getTime())
      expect(await store.nodes.countDocuments({})).toBe(360)
      expect(await syncDocuments(store, cache, 'p', files('v2'), {deleteVanished: true})).toEqual({inserted: 0, updated: 0, deleted: 0, unchanged: 360})
      // Half the files vanish.
      expect(await syncDocuments(store, cache, 'p', files('v2').slice(0, 60), {deleteVanished: true})).toEqual({inserted: 0, updated: 0, deleted: 180, unchanged: 180})
      expect(await store.trees.countDocuments({})).toBe(60)
    } finally {
      await store.close()
    }
  })

  it('another project\'s tree with the same id is not taken over', async () => {
    const store = await TreeStore.connect(server.uri, server.database('projects'))
    try {
      const file = fakeFile('shared', [[1, 'Shared']], [])
      await syncDocuments(store, DocumentCache.for(path.join(stateDir, 'one'), 'one'), 'one', [file], {deleteVanished: true})
      await expect(syncDocuments(store, DocumentCache.for(path.join(stateDir, 'two'), 'two'), 'two', [file], {deleteVanished: true})).rejects.toThrow(
        /already holds the tree `shared` of another project, `one` \(this one is `two`\): give each project its own database/
      )
      // Trees of different ids live side by side, and each build deletes only its own.
      await syncDocuments(store, DocumentCache.for(path.join(stateDir, 'two'), 'two'), 'two', [fakeFile('other', [[1, 'Other']], [])], {deleteVanished: true})
      expect(await syncDocuments(store, DocumentCache.for(path.join(stateDir, 'two'), 'two'), 'two', [], {deleteVanished: true})).toEqual({inserted: 0, updated: 0, deleted: 2, unchanged: 0})
      expect(await store.nodes.countDocuments({project: 'one'})).toBe(2)
    } finally {
      await store.close()
    }
  })

  it('a node deleted behind the summary\'s back comes back when the summary is dropped', async () => {
    const store = await TreeStore.connect(server.uri, server.database('repair'))
    try {
      const cache = DocumentCache.for(path.join(stateDir, 'repair'), 'p')
      const files = [fakeFile('a', [[1, 'A']], [[0, 'Q?', 'A.']])]
      await syncDocuments(store, cache, 'p', files, {deleteVanished: true})
      await store.nodes.deleteOne({_id: 'a#q-q'})
      await store.trees.deleteMany({})
      expect(await syncDocuments(store, cache, 'p', files, {deleteVanished: true})).toEqual({inserted: 1, updated: 0, deleted: 0, unchanged: 2})
      expect(await store.nodes.countDocuments({})).toBe(3)
    } finally {
      await store.close()
    }
  })
})
