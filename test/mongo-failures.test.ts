// Failures of `build --mongo`: an unreachable server, refused credentials, a
// server killed mid-write. Each: one clear message (password masked), a
// non-zero exit, the local outputs written, and a retry that converges.
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {MongoClient} from 'mongodb'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {Project} from './helpers/project.js'
import {buildMongo, externalUri, jsonlLines, mongoAvailability, startFerretDB, startTestMongo, tagpress, tagpressAsync, type TestMongo} from './helpers/mongo.js'
// @ts-expect-error: a plain JS module of the benchmarks
import {writeCorpus} from '../scripts/bench/corpus.js'

const available = mongoAvailability()
const password = 's3cret-Pa55'

function outputsWritten(project: Project): void {
  expect(existsSync(path.join(project.dir, 'out', 'manifest.json'))).toBe(true)
  expect(existsSync(path.join(project.dir, 'out', 'site'))).toBe(true)
  expect(existsSync(path.join(project.dir, 'out', 'datasets', 'qa.jsonl'))).toBe(true)
  expect(jsonlLines(project.dir).length).toBeGreaterThan(0)
}

function withCredentials(uri: string): string {
  return uri.replace('mongodb://', 'mongodb://tagpress:' + password + '@')
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as {port: number}).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe.skipIf(!available.ok)('build --mongo failures', () => {
  let server: TestMongo
  let site: Project

  beforeAll(async () => {
    server = await startTestMongo()
    site = new Project({
      'index.md': '# Home\n\n[/Q]What is this?[Q/]\n[/A]A test site.[A/]\n\n## Part\n\n[/Q]And this?[Q/]\n[/A]A part.[A/]\n'
    })
  })

  afterAll(async () => {
    site?.dispose()
    await server?.stop()
  })

  it('an unreachable server: a clear message without the password, exit 1, local outputs written', async () => {
    const port = await closedPort()
    const uri = 'mongodb://tagpress:' + password + '@127.0.0.1:' + port + '/?serverSelectionTimeoutMS=1500'
    const result = tagpress(site.dir, ['build', '--mongo', uri])
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('tagpress: MongoDB: Cannot reach MongoDB at mongodb://tagpress:****@127.0.0.1:' + port + '/?serverSelectionTimeoutMS=1500 (database `tagpress`)')
    expect(result.stderr + result.stdout).not.toContain(password)
    expect(result.stderr).not.toMatch(/\n\s+at /)
    outputsWritten(site)
  })

  it('refused credentials: a clear message without the password, exit 1, local outputs written', async () => {
    // FerretDB v1 embedded has no user database: it refuses every SCRAM login
    // (AuthenticationFailed, code 18), the error a wrong password gets from MongoDB.
    site.clean('out')
    const dbName = server.database('auth')
    const result = tagpress(site.dir, ['build', '--mongo', withCredentials(server.uri), '--db', dbName])
    expect(result.status).toBe(1)
    expect(result.stderr).toMatch(/tagpress: MongoDB: MongoDB at mongodb:\/\/tagpress:\*\*\*\*@.* \(database `tp_auth_\w+`\) refused the credentials \(authentication failed\)/)
    expect(result.stderr + result.stdout).not.toContain(password)
    outputsWritten(site)
    // The retry with the right connection string converges.
    const retry = buildMongo(site.dir, server.uri, dbName)
    expect(retry.status).toBe(0)
    expect(retry.mongo).toEqual({inserted: 5, updated: 0, deleted: 0, unchanged: 0})
  })

  it('an invalid connection string is a clear message too', () => {
    const result = tagpress(site.dir, ['build', '--mongo', 'mongodb://tagpress:' + password + '@/nohost'])
    expect(result.status).not.toBe(0)
    expect(result.stderr).toMatch(/MongoDB: Invalid MongoDB connection string mongodb:\/\/tagpress:\*\*\*\*@/)
    expect(result.stderr + result.stdout).not.toContain(password)
  })

  it.skipIf(externalUri !== undefined)('a server killed mid-write: a clear message, exit 1, local outputs written; the retry converges', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'tagpress-ferret-'))
    const corpus = new Project()
    try {
      writeCorpus(path.join(corpus.dir, 'content'), 300, 7)
      expect(tagpress(corpus.dir, ['build']).status).toBe(0)
      const expected = new Map(jsonlLines(corpus.dir).map((line) => {
        const doc = JSON.parse(line) as {_id: string; content_hash: string}
        return [doc._id, doc.content_hash]
      }))
      expect(expected.size).toBeGreaterThan(2000)

      let ferret = await startFerretDB({dir: dataDir})
      const watcher = await new MongoClient(ferret.uri, {serverSelectionTimeoutMS: 5000}).connect()
      const run = tagpressAsync(corpus.dir, ['build', '--mongo', ferret.uri, '--db', 'killed'])
      // Kill the server once the first nodes are in.
      const nodes = watcher.db('killed').collection('nodes')
      const deadline = Date.now() + 120_000
      while ((await nodes.estimatedDocumentCount().catch(() => 0)) === 0) {
        if (Date.now() > deadline) throw new Error('the build never wrote')
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      await ferret.kill()
      await watcher.close().catch(() => undefined)
      const result = await run
      expect(result.status).toBe(1)
      expect(result.stderr).toMatch(/tagpress: MongoDB: Lost the connection to MongoDB at mongodb:\/\/127\.0\.0\.1:\d+\/ \(database `killed`\) while writing the trees: .*; the local outputs are written, and building again finishes the sync/)
      expect(result.stderr).not.toMatch(/\n\s+at /)
      outputsWritten(corpus)

      // The server comes back (same data, new port); the retry takes over the dead build's lock and converges.
      ferret = await startFerretDB({dir: dataDir})
      try {
        const retry = buildMongo(corpus.dir, ferret.uri, 'killed')
        expect(retry.status, retry.stderr).toBe(0)
        expect(retry.stderr).not.toContain('waiting')
        const client = await new MongoClient(ferret.uri).connect()
        try {
          const docs = await client.db('killed').collection('nodes').find({}, {projection: {_id: 1, content_hash: 1}}).toArray()
          expect(new Map(docs.map((doc) => [String(doc._id), String(doc.content_hash)]))).toEqual(expected)
          expect(docs.length).toBe(expected.size)
        } finally {
          await client.close()
        }
        const again = buildMongo(corpus.dir, ferret.uri, 'killed')
        expect(again.mongo).toEqual({inserted: 0, updated: 0, deleted: 0, unchanged: expected.size})
      } finally {
        await ferret.stop()
      }
    } finally {
      corpus.dispose()
      rmSync(dataDir, {recursive: true, force: true})
    }
  })
})
