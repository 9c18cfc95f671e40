import {randomUUID} from 'node:crypto'
import {hostname} from 'node:os'
import type {Collection} from 'mongodb'
import {UserError} from '../errors.js'
import {processRuns} from '../process-runs.js'
import type {LockDocument} from './schema.js'

export interface LockOptions {
  /** The lock document's `_id` (one per database by default). */
  name?: string
  project: string
  /** How long a lease lasts without renewal (default 60 s; `TAGPRESS_MONGO_LOCK_LEASE_MS`). */
  leaseMs?: number
  /** How long to wait for another build's lock before giving up (default 10 min; `TAGPRESS_MONGO_LOCK_WAIT_MS`). */
  waitMs?: number
  /** Called once when the lock is held by another live build and this one starts waiting. */
  onWait?: (holder: LockDocument) => void
  /** For messages: the database, with the server's masked URI. */
  where: string
}

const defaultLeaseMs = 60_000
const defaultWaitMs = 10 * 60_000

/**
 * The build lock: one document in `locks`, so that two builds into one
 * database never interleave their writes (the second waits for the first).
 *
 * Acquiring is an `insertOne` of `{_id: 'build', owner, expires_at}`: the
 * unique `_id` makes exactly one of several concurrent inserts succeed, on
 * MongoDB and on FerretDB alike (SQLite enforces the `_id` index). The holder
 * renews its lease every third of it; a build that crashed stops renewing,
 * and once the lease has expired (or at once, when the holder ran on this
 * host and its process is gone) another build takes the lock over.
 *
 * ATOMICITY: the takeover, the renewal and the release are conditional
 * single-document writes (`updateOne`/`deleteOne` filtered by the previous
 * `owner`). On MongoDB they are atomic, so of several builds taking over
 * one expired lock exactly one wins, and a build whose lock was taken over
 * can neither renew nor release it (`test/mongo-atomic.test.ts` checks this
 * against a real MongoDB when `TAGPRESS_TEST_MONGODB_URI` is set). FerretDB
 * v1 runs an update as a query and then a write, not atomically across
 * connections: there two builds taking over the same expired lock at the
 * same instant could both believe they hold it. The read-back after a
 * takeover narrows that window; the plain acquisition (no expired lock)
 * does not depend on it.
 */
export class BuildLock {
  private timer: NodeJS.Timeout | undefined
  private lost = false
  private released = false

  private constructor(
    private readonly locks: Collection<LockDocument>,
    readonly document: LockDocument,
    private readonly leaseMs: number,
    private readonly where: string
  ) {}

  static async acquire(locks: Collection<LockDocument>, options: LockOptions): Promise<BuildLock> {
    const name = options.name ?? 'build'
    const leaseMs = options.leaseMs ?? (Number(process.env.TAGPRESS_MONGO_LOCK_LEASE_MS) || defaultLeaseMs)
    const waitMs = options.waitMs ?? (Number(process.env.TAGPRESS_MONGO_LOCK_WAIT_MS) || defaultWaitMs)
    const owner = randomUUID()
    const host = hostname()
    const started = Date.now()
    let waited = false
    for (let attempt = 0; ; attempt++) {
      const now = new Date()
      const document: LockDocument = {_id: name, owner, project: options.project, host, pid: process.pid, acquired_at: now, expires_at: new Date(now.getTime() + leaseMs)}
      try {
        await locks.insertOne(document)
        return new BuildLock(locks, document, leaseMs, options.where).start()
      } catch (error) {
        if ((error as {code?: number}).code !== 11000) throw error
      }
      const holder = await locks.findOne({_id: name})
      if (!holder) continue // released in between: try again at once
      if (stale(holder, host)) {
        // Conditional on the holder we saw: atomic on MongoDB (one taker wins), query-then-write on FerretDB v1 (see above).
        const result = await locks.updateOne({_id: name, owner: holder.owner}, {$set: {owner, project: options.project, host, pid: process.pid, acquired_at: now, expires_at: document.expires_at}})
        if (result.modifiedCount === 1) {
          const check = await locks.findOne({_id: name})
          if (check?.owner === owner) return new BuildLock(locks, {...document}, leaseMs, options.where).start()
        }
        continue
      }
      if (Date.now() - started > waitMs) {
        throw new UserError(
          'Another build (' + describe(holder) + ') holds the build lock of MongoDB ' + options.where + '; waited ' + Math.round((Date.now() - started) / 1000) + ' s. ' +
            'If no build is running, its lease ends at ' + holder.expires_at.toISOString() + '; build again then'
        )
      }
      if (!waited) {
        waited = true
        options.onWait?.(holder)
      }
      await sleep(Math.min(2000, 100 * 2 ** Math.min(attempt, 4)) * (0.75 + Math.random() / 2))
    }
  }

  private start(): this {
    this.timer = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.leaseMs / 3)))
    this.timer.unref()
    return this
  }

  /** Extend the lease; a lock found taken over is marked lost (network errors are left to the sync's own writes). */
  async renew(): Promise<void> {
    if (this.released || this.lost) return
    try {
      const result = await this.locks.updateOne({_id: this.document._id, owner: this.document.owner}, {$set: {expires_at: new Date(Date.now() + this.leaseMs)}})
      if (result.matchedCount === 0) this.lost = true
    } catch {
      // The sync's next write reports the connection problem.
    }
  }

  /** Throws when another build has taken the lock over: the caller must stop writing. */
  assertHeld(): void {
    if (this.lost) {
      throw new UserError(
        'Another build took over the build lock of MongoDB ' + this.where + ' (this build could not renew its lease in time); this build stopped writing, and nothing was deleted: build again'
      )
    }
  }

  /** Give the lock up (only if still ours); errors are swallowed: an unreleased lock expires with its lease. */
  async release(): Promise<void> {
    if (this.released) return
    this.released = true
    if (this.timer) clearInterval(this.timer)
    try {
      await this.locks.deleteOne({_id: this.document._id, owner: this.document.owner})
    } catch {
      // Expires with its lease.
    }
  }
}

/** A lock whose lease has ended, or whose holder ran on this host in a process that is gone. */
function stale(holder: LockDocument, host: string): boolean {
  if (!(holder.expires_at instanceof Date) || holder.expires_at.getTime() < Date.now()) return true
  return holder.host === host && holder.pid !== process.pid && !processRuns(holder.pid)
}


function describe(holder: LockDocument): string {
  return 'project `' + holder.project + '` on ' + holder.host + ', pid ' + holder.pid + ', since ' + (holder.acquired_at instanceof Date ? holder.acquired_at.toISOString() : '?')
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
