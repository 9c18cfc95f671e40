// The build lock's conditional writes are atomic on MongoDB, not on FerretDB v1
// (an update there is a query, then a write). This suite runs only against a
// real MongoDB: set TAGPRESS_TEST_MONGODB_URI (a throwaway database is used).
import {MongoClient} from 'mongodb'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {externalUri} from './helpers/mongo.js'
import {BuildLock} from '../src/node/mongo/lock.js'
import type {LockDocument} from '../src/node/mongo/schema.js'

let client: MongoClient | undefined
let reason: string | undefined

if (!externalUri) reason = 'lock atomicity tests skipped: they need a real MongoDB (set TAGPRESS_TEST_MONGODB_URI)'
else {
  client = await new MongoClient(externalUri, {serverSelectionTimeoutMS: 10_000}).connect()
  const info = await client.db('admin').command({buildInfo: 1})
  if (info.ferretdbVersion !== undefined) {
    reason = 'lock atomicity tests skipped: TAGPRESS_TEST_MONGODB_URI is FerretDB, whose conditional updates are not atomic'
    await client.close()
    client = undefined
  }
}
if (reason) process.stderr.write(reason + '\n')

describe.skipIf(reason !== undefined)('build lock on a real MongoDB', () => {
  const dbName = 'tp_atomic_' + Date.now().toString(36)

  beforeAll(async () => {
    await client?.db(dbName).dropDatabase()
  })

  afterAll(async () => {
    await client?.db(dbName).dropDatabase()
    await client?.close()
  })

  it('of many builds taking over one expired lock at once, exactly one wins', async () => {
    const locks = (client as MongoClient).db(dbName).collection<LockDocument>('locks')
    for (let round = 0; round < 5; round++) {
      await locks.deleteMany({})
      const past = new Date(Date.now() - 1000)
      await locks.insertOne({_id: 'build', owner: 'crashed', project: 'p', host: 'elsewhere', pid: 1, acquired_at: past, expires_at: past})
      const attempts = await Promise.allSettled(
        Array.from({length: 16}, () => BuildLock.acquire(locks, {project: 'p', leaseMs: 60_000, waitMs: 1500, where: 'test'}))
      )
      const winners = attempts.filter((attempt): attempt is PromiseFulfilledResult<BuildLock> => attempt.status === 'fulfilled')
      expect(winners.length, 'round ' + round).toBe(1)
      const holder = await locks.findOne({_id: 'build'})
      expect(holder?.owner).toBe(winners[0]?.value.document.owner)
      await winners[0]?.value.release()
    }
  })

  it('a build whose lock was taken over can neither renew nor release it', async () => {
    const locks = (client as MongoClient).db(dbName).collection<LockDocument>('locks')
    await locks.deleteMany({})
    const lock = await BuildLock.acquire(locks, {project: 'p', leaseMs: 60_000, where: 'test'})
    await locks.updateOne({_id: 'build'}, {$set: {owner: 'other'}})
    await lock.renew()
    expect(() => lock.assertHeld()).toThrow(/took over/)
    await lock.release()
    expect((await locks.findOne({_id: 'build'}))?.owner).toBe('other')
  })
})
