// `tagpress build --mongo`: the document trees of the example site in a
// MongoDB-wire server (the embedded FerretDB v1, or TAGPRESS_TEST_MONGODB_URI),
// through the official driver, with the real CLI.
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {BSON, type Db} from 'mongodb'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {Project} from './helpers/project.js'
import {buildMongo, compilerNodes, jsonlLines, markdownFiles, mongoAvailability, nodesOf, repo, startTestMongo, tagpress, type TestMongo} from './helpers/mongo.js'
import {TreeStore} from '../src/node/mongo/store.js'
import {assembleTrees, flatten, type TreeNode} from '../src/node/mongo/tree.js'
import type {BaseNode, DocumentNode} from '../src/node/mongo/schema.js'

const available = mongoAvailability()
const project = 'tagpress' // the example site's title

/** A tree's nodes in display order, without timestamps (and without `order` values when they may differ). */
function shape(tree: TreeNode<BaseNode>, keepOrder = true): Array<Record<string, unknown>> {
  return flatten(tree).map((doc) => {
    const copy: Record<string, unknown> = {...doc}
    delete copy.created_at
    delete copy.updated_at
    if (!keepOrder) delete copy.order
    return copy
  })
}

describe.skipIf(!available.ok)('build --mongo: the example site', () => {
  let server: TestMongo
  let site: Project
  let dbName: string
  let db: Db
  let expected: Map<string, DocumentNode[]>
  let total = 0

  beforeAll(async () => {
    server = await startTestMongo()
    site = Project.copyOf(repo)
    dbName = server.database('site')
    db = (await server.client()).db(dbName)
    expected = await compilerNodes(path.join(site.dir, 'content'), project)
    for (const nodes of expected.values()) total += nodes.length
  })

  afterAll(async () => {
    site?.dispose()
    await server?.stop()
  })

  it('first build inserts every file, section and Q/A node', async () => {
    const {status, mongo, stats} = buildMongo(site.dir, server.uri, dbName)
    expect(status).toBe(0)
    const records = stats.records as {qa: number}
    const counts = {file: 0, section: 0, qa: 0}
    for (const nodes of expected.values()) for (const node of nodes) counts[node.kind]++
    expect(counts.file).toBe(stats.pages)
    // Every Q/A is a node, also those of pages kept out of the datasets (`datasets: false`).
    expect(counts.qa).toBeGreaterThanOrEqual(records.qa)
    expect(counts.qa).toBeGreaterThan(40)
    expect(counts.section).toBeGreaterThan(counts.file)
    expect(mongo).toEqual({inserted: total, updated: 0, deleted: 0, unchanged: 0})
    const nodes = db.collection('nodes')
    expect(await nodes.countDocuments({})).toBe(total)
    for (const kind of ['file', 'section', 'qa'] as const) expect(await nodes.countDocuments({kind})).toBe(counts[kind])
    expect(await db.collection('trees').countDocuments({})).toBe(counts.file)
  })

  it('loadTree gives the same trees as the compiler', async () => {
    const store = await TreeStore.connect(server.uri, dbName)
    try {
      for (const [fileId, nodes] of expected) {
        const tree = await store.loadTree(fileId)
        expect(tree, fileId).toBeDefined()
        const [compiled] = assembleTrees(nodes)
        expect(shape(tree as TreeNode<BaseNode>), fileId).toEqual(shape(compiled as TreeNode<BaseNode>))
        // A subtree and a path, from the same flat documents.
        const qa = nodes.find((node) => node.kind === 'qa')
        if (qa) {
          const path = await store.pathTo(qa._id)
          expect(path.map((doc) => doc._id)).toEqual([...qa.ancestors, qa._id])
          const section = await store.loadTree(qa.parent_id as string)
          expect(flatten(section as TreeNode<BaseNode>).some((doc) => doc._id === qa._id)).toBe(true)
        }
      }
    } finally {
      await store.close()
    }
  })

  it('out/mongo/nodes.jsonl is Extended JSON that EJSON.parse reads back into the same documents', async () => {
    const lines = jsonlLines(site.dir)
    expect(lines.length).toBe(total)
    const stored = await db.collection('nodes').find({}, {promoteValues: false}).toArray()
    const byId = new Map(stored.map((doc) => [String(doc._id), doc]))
    for (const line of lines) {
      const relaxed = BSON.EJSON.parse(line) as Record<string, unknown>
      expect(BSON.EJSON.stringify(relaxed, {relaxed: true})).toBe(line)
      // Canonical form: the same BSON types (int32 orders, strings, arrays, null) as the driver stored.
      const canonical = BSON.EJSON.parse(line, {relaxed: false}) as Record<string, unknown>
      const inDb = {...(byId.get(String(relaxed._id)) as Record<string, unknown>)}
      expect(inDb, String(relaxed._id)).toBeDefined()
      delete inDb.created_at
      delete inDb.updated_at
      expect(BSON.EJSON.stringify(inDb, {relaxed: false})).toBe(BSON.EJSON.stringify(canonical, {relaxed: false}))
    }
  })

  it('a second build changes nothing ("0 changed")', async () => {
    const before = await nodesOf(db, true)
    const result = tagpress(site.dir, ['build', '--mongo', server.uri, '--db', dbName])
    expect(result.status).toBe(0)
    expect(result.stderr).toContain('MongoDB: 0 changed (0 inserted, 0 updated, 0 deleted)')
    const again = buildMongo(site.dir, server.uri, dbName)
    expect(again.mongo).toEqual({inserted: 0, updated: 0, deleted: 0, unchanged: total})
    expect(await nodesOf(db, true)).toEqual(before)
  })

  it('the trees cache holds a checked line per file, decoded only for a sync; a damaged line is made again', async () => {
    const cache = path.join(site.dir, '.tagpress', 'mongo', 'trees.json')
    const lines = readFileSync(cache, 'utf8').split('\n')
    expect(lines[0]).toBe('{"version":3}')
    expect(lines.at(-1)).toBe('')
    // Each line: a CRC-32 in hex, a tab, `[source, key]`, a tab, `[ids, hashes]`.
    const fields = (line: string) => line.split('\t')
    const sources = lines.slice(1, -1).map((line) => (JSON.parse(fields(line)[1] as string) as [string, string])[0])
    expect(sources).toEqual(markdownFiles(path.join(site.dir, 'content')).sort())
    const intro = lines.findIndex((line) => fields(line)[1]?.startsWith('["guide/intro.md",'))
    const good = lines[intro] as string
    const before = await nodesOf(db, true)
    // Cut short, then one character of a node id changed (the line still parses): each time the line is made again
    // from the compile, and the sync stays exact.
    for (const damaged of [good.slice(0, good.lastIndexOf('\t') + 1) + '[["cut short', good.replace('guide/intro#', 'guide/intrX#')]) {
      expect(damaged).not.toBe(good)
      lines[intro] = damaged
      writeFileSync(cache, lines.join('\n'))
      expect(buildMongo(site.dir, server.uri, dbName).mongo).toEqual({inserted: 0, updated: 0, deleted: 0, unchanged: total})
      expect(await nodesOf(db, true)).toEqual(before)
      expect(readFileSync(cache, 'utf8').split('\n')[intro]).toBe(good)
    }
  })

  it('tagpress tree prints the same tree from MongoDB and from nodes.jsonl', () => {
    const fromDb = tagpress(site.dir, ['tree', '--mongo', server.uri, '--db', dbName, 'outputs/mongodb'])
    const fromFile = tagpress(site.dir, ['tree', 'outputs/mongodb'])
    expect(fromDb.status).toBe(0)
    expect(fromDb.stdout).toBe(fromFile.stdout)
    expect(fromDb.stdout.split('\n')[0]).toBe('outputs/mongodb — MongoDB trees')
    expect(fromDb.stdout).toContain('└── 1 MongoDB trees\n    ├── 1.1 Two kinds of tree\n')
    expect(fromDb.stdout).toMatch(/│   ├── Q: /)
    const all = tagpress(site.dir, ['tree', '--mongo', server.uri, '--db', dbName])
    expect(all.status).toBe(0)
    expect(all.stdout.split('\n').filter((line) => line !== '').length).toBe(total)
  })

  it('editing one answer changes exactly that node', async () => {
    const before = await nodesOf(db, true)
    const file = path.join(site.dir, 'content', 'outputs', 'mongodb.md')
    const text = readFileSync(file, 'utf8')
    writeFileSync(file, text.replace('so a typo in one page cannot wipe its questions from the database.', 'so a typo in one page cannot wipe its questions from the database (edited).'))
    const {status, mongo} = buildMongo(site.dir, server.uri, dbName)
    expect(status).toBe(0)
    expect(mongo).toEqual({inserted: 0, updated: 1, deleted: 0, unchanged: total - 1})
    const after = await nodesOf(db, true)
    const changed = [...after.keys()].filter((id) => JSON.stringify(after.get(id)) !== JSON.stringify(before.get(id)))
    expect(changed).toEqual(['outputs/mongodb#q-and-when-a-build-fails'])
    expect(String(after.get(changed[0] as string)?.answer)).toContain('(edited)')
  })

  it('inserting a question changes exactly one node: ids and orders are not positions', async () => {
    const before = await nodesOf(db, true)
    const file = path.join(site.dir, 'content', 'outputs', 'mongodb.md')
    const text = readFileSync(file, 'utf8')
    const anchor = '[/Q]What happens in MongoDB when I build again?[Q/]'
    writeFileSync(file, text.replace(anchor, '[/Q]Is there a new question first?[Q/]\n[/A]Yes, inserted before the others.[A/]\n\n' + anchor))
    const {status, mongo} = buildMongo(site.dir, server.uri, dbName)
    expect(status).toBe(0)
    expect(mongo).toEqual({inserted: 1, updated: 0, deleted: 0, unchanged: total})
    const after = await nodesOf(db, true)
    expect(after.size).toBe(total + 1)
    const added = [...after.keys()].filter((id) => !before.has(id))
    expect(added).toEqual(['outputs/mongodb#q-is-there-a-new-question-first'])
    for (const [id, doc] of before) expect(after.get(id), id).toEqual(doc)
    // It sorts where it stands in the page: after its section, before the question that followed.
    const store = await TreeStore.connect(server.uri, dbName)
    try {
      const tree = await store.loadTree('outputs/mongodb#mongodb-trees/connecting')
      expect(tree?.children.map((child) => child.doc._id)).toEqual([
        'outputs/mongodb#q-is-there-a-new-question-first',
        'outputs/mongodb#q-what-happens-in-mongodb-when-i-build-again',
        'outputs/mongodb#q-and-when-a-build-fails'
      ])
    } finally {
      await store.close()
    }
    total += 1
  })

  it('deleting a file removes its subtree', async () => {
    const before = await nodesOf(db)
    const subtree = [...before.values()].filter((doc) => doc.tree_id === 'outputs/site')
    expect(subtree.length).toBeGreaterThan(5)
    site.remove('outputs/site.md')
    // Links to it would now fail the build: keep their text only.
    for (const source of markdownFiles(path.join(site.dir, 'content'))) {
      const file = path.join(site.dir, 'content', source)
      const text = readFileSync(file, 'utf8')
      const unlinked = text.replace(/\[([^\]]*)\]\((?:\.\.\/)*(?:outputs\/)?site\.md(?:#[^)]*)?\)/g, '$1')
      if (unlinked !== text) writeFileSync(file, unlinked)
    }
    const {status, mongo, stderr} = buildMongo(site.dir, server.uri, dbName)
    expect(status, stderr).toBe(0)
    expect(mongo?.deleted).toBe(subtree.length)
    expect(mongo?.inserted).toBe(0)
    const after = await nodesOf(db)
    expect(after.size).toBe(total - subtree.length)
    expect([...after.values()].some((doc) => doc.tree_id === 'outputs/site')).toBe(false)
    expect(await db.collection('trees').countDocuments({_id: 'outputs/site' as never})).toBe(0)
    total -= subtree.length
  })

  it('a failed build deletes nothing; the next good one does', async () => {
    const file = path.join(site.dir, 'content', 'outputs', 'mongodb.md')
    const text = readFileSync(file, 'utf8')
    writeFileSync(file, text.replace(/\[\/Q\]Is there a new question first\?\[Q\/\]\n\[\/A\]Yes, inserted before the others\.\[A\/\]\n\n/, ''))
    site.write('broken.md', '# Broken\n\n[/Q]An unanswered question[Q/]\n')
    const failed = buildMongo(site.dir, server.uri, dbName)
    expect(failed.status).toBe(1)
    expect(failed.mongo?.deleted).toBe(0)
    expect(await db.collection('nodes').countDocuments({_id: 'outputs/mongodb#q-is-there-a-new-question-first' as never})).toBe(1)
    site.remove('broken.md')
    const fixed = buildMongo(site.dir, server.uri, dbName)
    expect(fixed.status).toBe(0)
    expect(fixed.mongo).toEqual({inserted: 0, updated: 0, deleted: 1, unchanged: total - 1})
    expect(await db.collection('nodes').countDocuments({_id: 'outputs/mongodb#q-is-there-a-new-question-first' as never})).toBe(0)
    total -= 1
  })

  it('after the edits, the database still holds the compiler\'s trees, and nodes.jsonl matches them', async () => {
    const now = await compilerNodes(path.join(site.dir, 'content'), project)
    const store = await TreeStore.connect(server.uri, dbName)
    try {
      const forest = await store.loadForest(project)
      expect(forest.map((tree) => tree.doc._id)).toEqual([...now.keys()].sort())
      for (const tree of forest) {
        const [compiled] = assembleTrees(now.get(tree.doc._id) as DocumentNode[])
        expect(shape(tree, false), tree.doc._id).toEqual(shape(compiled as TreeNode<BaseNode>, false))
      }
    } finally {
      await store.close()
    }
    const fromFile = jsonlLines(site.dir).map((line) => JSON.parse(line) as DocumentNode)
    expect(fromFile.length).toBe(total)
    expect(await db.collection('nodes').countDocuments({})).toBe(total)
  })
})
