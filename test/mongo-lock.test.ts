// Two builds into one database, the build lock, and a nodes.jsonl imported
// before the first sync: against the FerretDB test server (or
// TAGPRESS_TEST_MONGODB_URI) through the official driver.
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {hostname} from 'node:os'
import path from 'node:path'
import {BSON, type Db} from 'mongodb'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {Project} from './helpers/project.js'
import {buildMongo, jsonlLines, markdownFiles, mongoAvailability, nodesOf, repo, startTestMongo, tagpress, tagpressAsync, type CliResult, type TestMongo} from './helpers/mongo.js'
import {TreeStore} from '../src/node/mongo/store.js'
import type {LockDocument} from '../src/node/mongo/schema.js'

const available = mongoAvailability()

/** The node set a project's build gives: `_id` → content hash, from its nodes.jsonl. */
function nodeSet(project: Project): Map<string, string> {
  return new Map(jsonlLines(project.dir).map((line) => {
    const doc = JSON.parse(line) as {_id: string; content_hash: string}
    return [doc._id, doc.content_hash]
  }))
}

async function dbSet(db: Db): Promise<Map<string, string>> {
  const docs = await db.collection('nodes').find({}, {projection: {_id: 1, content_hash: 1}}).toArray()
  return new Map(docs.map((doc) => [String(doc._id), String(doc.content_hash)]))
}

/** Wait until `test` is true (polling), or fail after `ms`. */
async function until(test: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await test())) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe.skipIf(!available.ok)('one database, several builds', () => {
  let server: TestMongo
  let a: Project
  let b: Project

  beforeAll(async () => {
    server = await startTestMongo()
    a = Project.copyOf(repo)
    b = Project.copyOf(repo)
    // B differs from A: a page gone, an answer edited, a question added.
    b.remove('outputs/site.md')
    for (const source of markdownFiles(path.join(b.dir, 'content'))) {
      const file = path.join(b.dir, 'content', source)
      const text = readFileSync(file, 'utf8')
      let next = text.replace(/\[([^\]]*)\]\((?:\.\.\/)*(?:outputs\/)?site\.md(?:#[^)]*)?\)/g, '$1')
      if (source === 'outputs/mongodb.md') {
        next = next.replace('their `_id`s stay the same.', 'their `_id`s stay the same (B).')
        next = next.replace('[/Q]And when a build fails?[Q/]', '[/Q]Only in B?[Q/]\n[/A]Yes.[A/]\n\n[/Q]And when a build fails?[Q/]')
      }
      if (next !== text) writeFileSync(file, next)
    }
    // Compile both first, so that their syncs start together.
    expect(tagpress(a.dir, ['build']).status).toBe(0)
    expect(tagpress(b.dir, ['build']).status).toBe(0)
  })

  afterAll(async () => {
    a?.dispose()
    b?.dispose()
    await server?.stop()
  })

  it('two builds started together leave exactly one build\'s node set, no duplicates', async () => {
    const setA = nodeSet(a)
    const setB = nodeSet(b)
    expect(setA).not.toEqual(setB)
    const dbName = server.database('race')
    const db = (await server.client()).db(dbName)
    for (let round = 0; round < 3; round++) {
      const args = ['build', '--mongo', server.uri, '--db', dbName, ...(round === 2 ? ['--clean'] : [])]
      // Rounds 0 and 1: both builds queue behind a lock held here, then race for it the moment it is released.
      const store = round < 2 ? await TreeStore.connect(server.uri, dbName) : undefined
      const gate = store ? await store.lock({project: 'gate', leaseMs: 5000}) : undefined
      const runs = [tagpressAsync(a.dir, args, {TAGPRESS_MONGO_LOCK_WAIT_MS: '120000'}), tagpressAsync(b.dir, args, {TAGPRESS_MONGO_LOCK_WAIT_MS: '120000'})]
      if (gate && store) {
        let exited = false
        void Promise.race(runs).then(() => (exited = true))
        await until(() => exited || runs.every((run) => run.stderr().includes('waiting for another build')), 240_000)
        expect(exited, 'a build ended while the gate was closed: ' + runs.map((run) => run.stderr()).join('\n')).toBe(false)
        await gate.release()
        await store.close()
      }
      const [ra, rb] = (await Promise.all(runs)) as [CliResult, CliResult]
      expect(ra.status, ra.stderr).toBe(0)
      expect(rb.status, rb.stderr).toBe(0)
      const held = await dbSet(db)
      const matches = [setA, setB].filter((set) => JSON.stringify([...set].sort()) === JSON.stringify([...held].sort()))
      expect(matches.length, 'round ' + round).toBe(1)
      const ids = (await db.collection('nodes').find({}, {projection: {_id: 1}}).toArray()).map((doc) => String(doc._id))
      expect(new Set(ids).size).toBe(ids.length)
      // The summaries agree with the nodes, and the lock is free.
      const summaries = await db.collection('trees').find({}).toArray()
      expect(summaries.reduce((sum, summary) => sum + (summary.nodes as number), 0)).toBe(held.size)
      expect(await db.collection('locks').countDocuments({})).toBe(0)
    }
  })

  it('a build waits for the lock another build holds, then syncs', async () => {
    const dbName = server.database('wait')
    const store = await TreeStore.connect(server.uri, dbName)
    try {
      const lock = await store.lock({project: 'someone else', leaseMs: 2000})
      const run = tagpressAsync(a.dir, ['build', '--mongo', server.uri, '--db', dbName, '--stats'], {TAGPRESS_MONGO_LOCK_WAIT_MS: '120000'})
      // The build says it waits, and writes nothing while it does.
      await until(() => run.stderr().includes('MongoDB: waiting for another build'))
      await new Promise((resolve) => setTimeout(resolve, 3000))
      expect(await store.nodes.countDocuments({})).toBe(0)
      await lock.release()
      const result = await run
      expect(result.status, result.stderr).toBe(0)
      const report = JSON.parse(result.stdout.trim().split('\n').pop() as string).mongo
      expect(report.inserted).toBe(nodeSet(a).size)
    } finally {
      await store.close()
    }
  })

  it('a lock held too long fails the build with a clear message; the local outputs are written', async () => {
    const dbName = server.database('held')
    const store = await TreeStore.connect(server.uri, dbName)
    try {
      const lock = await store.lock({project: 'someone else', leaseMs: 60_000})
      a.clean('out')
      const result = tagpress(a.dir, ['build', '--mongo', server.uri, '--db', dbName], {TAGPRESS_MONGO_LOCK_WAIT_MS: '1500'})
      expect(result.status).toBe(1)
      expect(result.stderr).toMatch(/MongoDB: Another build \(project `someone else` on .*, pid \d+, since .*\) holds the build lock of MongoDB mongodb:\/\/.* \(database `tp_held_\w+`\); waited \d+ s\./)
      expect(result.stderr).not.toMatch(/\n\s+at /)
      expect(existsSync(path.join(a.dir, 'out', 'mongo', 'nodes.jsonl'))).toBe(true)
      expect(existsSync(path.join(a.dir, 'out', 'site', 'index.html'))).toBe(true)
      await lock.release()
    } finally {
      await store.close()
    }
  })

  it('an expired lock, or one whose build died on this host, is taken over at once', async () => {
    const dbName = server.database('stale')
    const db = (await server.client()).db(dbName)
    const locks = db.collection<LockDocument>('locks')
    const past = new Date(Date.now() - 1000)
    await locks.insertOne({_id: 'build', owner: 'crashed', project: 'tagpress', host: 'elsewhere', pid: 1, acquired_at: past, expires_at: past})
    let started = Date.now()
    let result = tagpress(a.dir, ['build', '--mongo', server.uri, '--db', dbName], {TAGPRESS_MONGO_LOCK_WAIT_MS: '60000'})
    expect(result.status, result.stderr).toBe(0)
    expect(result.stderr).not.toContain('waiting')
    expect(Date.now() - started).toBeLessThan(30_000)
    expect(await locks.countDocuments({})).toBe(0)
    // Still within its lease, but its process (on this host) is gone.
    const future = new Date(Date.now() + 10 * 60_000)
    await locks.insertOne({_id: 'build', owner: 'killed', project: 'tagpress', host: hostname(), pid: 2 ** 22 + 12345, acquired_at: past, expires_at: future})
    started = Date.now()
    result = tagpress(a.dir, ['build', '--mongo', server.uri, '--db', dbName], {TAGPRESS_MONGO_LOCK_WAIT_MS: '60000'})
    expect(result.status, result.stderr).toBe(0)
    expect(result.stderr).toContain('MongoDB: 0 changed')
    expect(result.stderr).not.toContain('waiting')
    expect(await locks.countDocuments({})).toBe(0)
  })

  it('the lease is renewed while held; a lock taken over is lost, and the loser cannot release it', async () => {
    const dbName = server.database('lease')
    const store = await TreeStore.connect(server.uri, dbName)
    try {
      const lock = await store.lock({project: 'p', leaseMs: 600})
      const first = (await store.locks.findOne({_id: 'build'}))?.expires_at as Date
      await new Promise((resolve) => setTimeout(resolve, 1200))
      const later = (await store.locks.findOne({_id: 'build'}))?.expires_at as Date
      expect(later.getTime()).toBeGreaterThan(first.getTime())
      expect(later.getTime()).toBeGreaterThan(Date.now())
      lock.assertHeld()
      // Someone takes it over (as after an expiry): the holder notices at its next renewal. (FerretDB v1 updates by
      // query-then-write: a renewal under way can write the old owner back over the thief's, so the thief tries
      // until it holds for longer than a renewal interval, as a real taker's next attempt would.)
      for (let attempt = 0; attempt < 20; attempt++) {
        await store.locks.updateOne({_id: 'build'}, {$set: {owner: 'thief'}})
        await new Promise((resolve) => setTimeout(resolve, 250))
        if ((await store.locks.findOne({_id: 'build'}))?.owner === 'thief') break
      }
      await lock.renew()
      expect(() => lock.assertHeld()).toThrow(/took over the build lock/)
      await lock.release()
      expect((await store.locks.findOne({_id: 'build'}))?.owner).toBe('thief')
    } finally {
      await store.close()
    }
  })

  it('nodes.jsonl imported as it is (mongoimport) is what a build would write: the first sync changes nothing', async () => {
    const dbName = server.database('import')
    const db = (await server.client()).db(dbName)
    const docs = jsonlLines(a.dir).map((line) => BSON.EJSON.parse(line) as Record<string, unknown>)
    await db.collection('nodes').insertMany(docs as never[])
    const {status, mongo} = buildMongo(a.dir, server.uri, dbName)
    expect(status).toBe(0)
    expect(mongo).toEqual({inserted: 0, updated: 0, deleted: 0, unchanged: docs.length})
    expect(await db.collection('trees').countDocuments({})).toBe(docs.filter((doc) => doc.kind === 'file').length)
    const held = await nodesOf(db)
    for (const doc of docs) expect(held.get(String(doc._id))).toEqual(doc)
  })
})
