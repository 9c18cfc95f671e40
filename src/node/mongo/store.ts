import {MongoClient, type AnyBulkWriteOperation, type Collection, type Db, type Document, type Filter} from 'mongodb'
import {BuildLock, type LockOptions} from './lock.js'
import {collections, documentKinds, nodeIndexes, optionalDocumentFields, treeIndexes, type DocumentNode, type LockDocument, type TreeDocument, type TreeSummary} from './schema.js'
import {assembleTrees, type TreeNode} from './tree.js'
import {asUserError, maskUri} from './uri.js'

export interface StoreOptions {
  /** Server selection and connect timeout (default 10 s), unless the URI sets `serverSelectionTimeoutMS` / `connectTimeoutMS`. */
  timeoutMs?: number
  /** Per-operation socket timeout (default 10 min: FerretDB v1 scans whole collections). */
  socketTimeoutMs?: number
}

/** What a node's summary row needs: id, hash, order. */
export interface NodeState {
  _id: string
  tree_id: string
  project?: string
  content_hash?: string
  order?: number
}

/** Most ops per `bulkWrite`/`insertMany` call, and most bytes (the driver splits further at the server's limits). */
const batchOps = 1000
const batchBytes = 8 << 20
/** On FerretDB v1, every update by `_id` scans the collection: past this many, rewrite by delete + insert. */
const ferretUpsertLimit = 64

/**
 * The Q&A tree store over the official driver: connection, indexes, the
 * reads a sync and `tagpress tree` need, batched writes, the build lock.
 * Every method throws driver errors as they are; `asUserError` turns them
 * into messages (callers decide the phase).
 */
export class TreeStore {
  readonly nodes: Collection<TreeDocument>
  readonly trees: Collection<TreeSummary>
  readonly locks: Collection<LockDocument>
  /** The server is FerretDB (its `buildInfo` says so): large rewrites take the delete + insert path. */
  ferret = false

  private constructor(
    readonly client: MongoClient,
    readonly db: Db,
    readonly uri: string,
    readonly dbName: string
  ) {
    this.nodes = db.collection<TreeDocument>(collections.nodes)
    this.trees = db.collection<TreeSummary>(collections.trees)
    this.locks = db.collection<LockDocument>(collections.locks)
  }

  /** Connect (with timeouts) and learn what the server is; errors become `UserError`s that mask the password. */
  static async connect(uri: string, dbName: string, options: StoreOptions = {}): Promise<TreeStore> {
    let client: MongoClient
    try {
      const timeout = options.timeoutMs ?? (Number(process.env.TAGPRESS_MONGO_TIMEOUT_MS) || 10_000)
      client = new MongoClient(uri, {
        appName: 'tagpress',
        ...(/[?&]serverSelectionTimeoutMS=/i.test(uri) ? {} : {serverSelectionTimeoutMS: timeout}),
        ...(/[?&]connectTimeoutMS=/i.test(uri) ? {} : {connectTimeoutMS: timeout}),
        ...(/[?&]socketTimeoutMS=/i.test(uri) ? {} : {socketTimeoutMS: options.socketTimeoutMs ?? 10 * 60_000})
      })
    } catch (error) {
      throw asUserError(error, uri, dbName, 'connect')
    }
    const store = new TreeStore(client, client.db(dbName), uri, dbName)
    try {
      await client.connect()
      const info = await store.db.command({buildInfo: 1})
      store.ferret = typeof info.ferretdbVersion === 'string' || info.ferretdbFeatures !== undefined
    } catch (error) {
      await client.close().catch(() => undefined)
      throw asUserError(error, uri, dbName, 'connect')
    }
    return store
  }

  /** The server and database, for messages (password masked). */
  get where(): string {
    return maskUri(this.uri) + ' (database `' + this.dbName + '`)'
  }

  async close(): Promise<void> {
    await this.client.close().catch(() => undefined)
  }

  /**
   * Create the indexes both kinds of tree use (idempotent). Only missing ones,
   * one per command: FerretDB v1.24 drops the connection when one
   * `createIndexes` names two or more indexes that already exist.
   */
  async ensureIndexes(): Promise<void> {
    const wanted: Array<[Collection<Document>, ReadonlyArray<{key: Record<string, number>; name: string}>]> = [
      [this.nodes as unknown as Collection<Document>, nodeIndexes],
      [this.trees as unknown as Collection<Document>, treeIndexes]
    ]
    for (const [collection, indexes] of wanted) {
      const existing = new Set<string>()
      try {
        for (const index of await collection.listIndexes().toArray()) existing.add(String(index.name))
      } catch (error) {
        // A collection that does not exist yet has no indexes.
        if ((error as {code?: number}).code !== 26) throw error
      }
      for (const index of indexes) {
        if (!existing.has(index.name)) await collection.createIndexes([{key: {...index.key}, name: index.name}])
      }
    }
  }

  async lock(options: Omit<LockOptions, 'where'>): Promise<BuildLock> {
    return BuildLock.acquire(this.locks, {...options, where: this.where})
  }

  // Reading -----------------------------------------------------------------

  /** The tree rooted at a node (a file, a section, a session, any node): one query, built in memory. */
  async loadTree(id: string): Promise<TreeNode<TreeDocument> | undefined> {
    const docs = (await this.nodes.find({$or: [{_id: id}, {ancestors: id}]} as Filter<TreeDocument>).toArray()) as unknown as TreeDocument[]
    return assembleTrees(docs).find((root) => root.doc._id === id)
  }

  /** Every document tree of a project (or of every project), one query. */
  async loadForest(project?: string): Promise<Array<TreeNode<TreeDocument>>> {
    const filter: Filter<TreeDocument> = {kind: {$in: [...documentKinds]}, ...(project !== undefined ? {project} : {})} as Filter<TreeDocument>
    return assembleTrees((await this.nodes.find(filter).toArray()) as unknown as TreeDocument[])
  }

  /** The nodes from a tree's root down to a node (two queries: the node, then its ancestors). */
  async pathTo(id: string): Promise<TreeDocument[]> {
    const node = (await this.nodes.findOne({_id: id} as Filter<TreeDocument>)) as TreeDocument | null
    if (!node) return []
    const above = (await this.nodes.find({_id: {$in: node.ancestors}} as Filter<TreeDocument>).toArray()) as unknown as TreeDocument[]
    const byId = new Map(above.map((doc) => [doc._id, doc]))
    return [...node.ancestors.map((ancestor) => byId.get(ancestor)).filter((doc): doc is TreeDocument => doc !== undefined), node]
  }

  /** Every document tree's summary (all projects: a build must not take over another project's trees). */
  async readSummaries(): Promise<TreeSummary[]> {
    return this.trees.find({kind: 'document'}).toArray()
  }

  /**
   * What the database holds of some document trees, from the nodes
   * themselves (for trees without a summary: a first sync, a sync cut short,
   * nodes imported from `nodes.jsonl`). Many trees: one pass over all
   * document nodes rather than a huge `$in`.
   */
  async readNodeStates(treeIds: readonly string[]): Promise<NodeState[]> {
    if (treeIds.length === 0) return []
    const projection = {_id: 1, tree_id: 1, project: 1, content_hash: 1, order: 1}
    if (treeIds.length > 200) {
      const wanted = new Set(treeIds)
      const all = (await this.nodes.find({kind: {$in: [...documentKinds]}} as Filter<TreeDocument>, {projection}).toArray()) as unknown as NodeState[]
      return all.filter((state) => wanted.has(state.tree_id))
    }
    return (await this.nodes.find({tree_id: {$in: [...treeIds]}, kind: {$in: [...documentKinds]}} as Filter<TreeDocument>, {projection}).toArray()) as unknown as NodeState[]
  }

  // Writing -----------------------------------------------------------------

  /**
   * Insert nodes known to be new, in batches. An `_id` that exists after all
   * (written by a sync whose summary never landed, or imported) is upserted.
   */
  async insertNodes(docs: readonly DocumentNode[], now: Date): Promise<void> {
    for (const batch of batches(docs)) {
      try {
        await this.nodes.insertMany(
          batch.map((doc) => ({...doc, created_at: now, updated_at: now})),
          {ordered: false}
        )
      } catch (error) {
        const duplicates = duplicateIndexes(error, batch.length)
        if (!duplicates) throw error
        await this.upsertNodes(duplicates.map((index) => batch[index] as DocumentNode), now)
      }
    }
  }

  /**
   * Rewrite existing nodes: unordered `bulkWrite` of `updateOne` upserts
   * filtered by `_id` alone (a condition in an upsert filter would make the
   * server insert a duplicate `_id`), `$set` of every field, `$unset` of the
   * optional ones a node lost, `created_at` only on insert. On FerretDB v1,
   * whose SQLite backend scans the collection for each of them, more than a
   * few become delete + insert batches (`replaceNodes`).
   */
  async upsertNodes(docs: readonly DocumentNode[], now: Date): Promise<void> {
    if (this.ferret && docs.length > ferretUpsertLimit) return this.replaceNodes(docs, now)
    for (const batch of batches(docs)) {
      const ops: Array<AnyBulkWriteOperation<TreeDocument>> = batch.map((doc) => {
        const {_id, created_at, updated_at, ...fields} = doc
        void created_at
        void updated_at
        const unset = optionalDocumentFields.filter((field) => !(field in doc))
        const update: Document = {$set: {...fields, updated_at: now}, $setOnInsert: {created_at: now}}
        if (unset.length > 0) update.$unset = Object.fromEntries(unset.map((field) => [field, '']))
        return {updateOne: {filter: {_id} as Filter<TreeDocument>, update, upsert: true}}
      })
      try {
        await this.nodes.bulkWrite(ops, {ordered: false})
      } catch (error) {
        // Two upserts of one new `_id` can race (E11000): the retry takes the update path.
        if (!isDuplicate(error)) throw error
        await this.nodes.bulkWrite(ops, {ordered: false})
      }
    }
  }

  /**
   * FerretDB's fast path for many rewrites: read `created_at`, delete the old
   * documents, insert the new ones, in batches. Not atomic (a reader may miss
   * a node for a moment; a sync cut short leaves it missing until the next
   * build, which finds it missing and inserts it).
   */
  async replaceNodes(docs: readonly DocumentNode[], now: Date): Promise<void> {
    for (const batch of batches(docs, 5000)) {
      const ids = batch.map((doc) => doc._id)
      const created = new Map<string, Date>()
      for (const found of await this.nodes.find({_id: {$in: ids}} as Filter<TreeDocument>, {projection: {_id: 1, created_at: 1}}).toArray()) {
        if (found.created_at instanceof Date) created.set(found._id, found.created_at)
      }
      await this.nodes.deleteMany({_id: {$in: ids}, kind: {$in: [...documentKinds]}} as Filter<TreeDocument>)
      for (const part of batches(batch)) {
        await this.nodes.insertMany(
          part.map((doc) => ({...doc, created_at: created.get(doc._id) ?? now, updated_at: now})),
          {ordered: false}
        )
      }
    }
  }

  /** Delete document nodes by id, in batches. */
  async deleteNodes(ids: readonly string[]): Promise<number> {
    let deleted = 0
    for (let at = 0; at < ids.length; at += batchOps) {
      const result = await this.nodes.deleteMany({_id: {$in: ids.slice(at, at + batchOps)}, kind: {$in: [...documentKinds]}} as Filter<TreeDocument>)
      deleted += result.deletedCount
    }
    return deleted
  }

  /** Delete every document node of some trees (files that vanished), in batches. */
  async deleteTreeNodes(treeIds: readonly string[]): Promise<number> {
    let deleted = 0
    for (let at = 0; at < treeIds.length; at += batchOps) {
      const result = await this.nodes.deleteMany({tree_id: {$in: treeIds.slice(at, at + batchOps)}, kind: {$in: [...documentKinds]}} as Filter<TreeDocument>)
      deleted += result.deletedCount
    }
    return deleted
  }

  /** Write tree summaries: new ones inserted, changed ones replaced (by `_id` alone), FerretDB's many by delete + insert. */
  async writeSummaries(summaries: readonly TreeSummary[], existing: ReadonlySet<string>): Promise<void> {
    const fresh = summaries.filter((summary) => !existing.has(summary._id))
    const changed = summaries.filter((summary) => existing.has(summary._id))
    for (const batch of batches(fresh)) {
      try {
        await this.trees.insertMany([...batch], {ordered: false})
      } catch (error) {
        const duplicates = duplicateIndexes(error, batch.length)
        if (!duplicates) throw error
        changed.push(...duplicates.map((index) => batch[index] as TreeSummary))
      }
    }
    if (this.ferret && changed.length > ferretUpsertLimit) {
      for (const batch of batches(changed, 5000)) {
        await this.trees.deleteMany({_id: {$in: batch.map((summary) => summary._id)}, kind: 'document'} as Filter<TreeSummary>)
        await this.trees.insertMany([...batch], {ordered: false})
      }
      return
    }
    for (const batch of batches(changed)) {
      await this.trees.bulkWrite(
        batch.map((summary) => ({replaceOne: {filter: {_id: summary._id} as Filter<TreeSummary>, replacement: summary, upsert: true}})),
        {ordered: false}
      )
    }
  }

  async deleteSummaries(treeIds: readonly string[]): Promise<void> {
    for (let at = 0; at < treeIds.length; at += batchOps) {
      await this.trees.deleteMany({_id: {$in: treeIds.slice(at, at + batchOps)}, kind: 'document'} as Filter<TreeSummary>)
    }
  }

  /** A driver error as a clear `UserError` (password masked). */
  userError(error: unknown, phase: 'connect' | 'sync' | 'read'): Error {
    return asUserError(error, this.uri, this.dbName, phase)
  }
}

/** Batches of at most `size` items and about `batchBytes` of documents. */
function* batches<T>(items: readonly T[], size = batchOps): Generator<T[]> {
  let batch: T[] = []
  let bytes = 0
  for (const item of items) {
    const weight = approximateSize(item)
    if (batch.length > 0 && (batch.length >= size || bytes + weight > batchBytes)) {
      yield batch
      batch = []
      bytes = 0
    }
    batch.push(item)
    bytes += weight
  }
  if (batch.length > 0) yield batch
}

function approximateSize(item: unknown): number {
  const doc = item as {question_html?: string; answer_html?: string; answer?: string; question?: string; list?: string}
  return 512 + (doc.question_html?.length ?? 0) + (doc.answer_html?.length ?? 0) + (doc.answer?.length ?? 0) + (doc.question?.length ?? 0) + (doc.list?.length ?? 0)
}

function isDuplicate(error: unknown): boolean {
  const err = error as {code?: number; writeErrors?: Array<{code?: number}> | {code?: number}}
  if (err.code === 11000) return true
  const writeErrors = Array.isArray(err.writeErrors) ? err.writeErrors : err.writeErrors ? [err.writeErrors] : []
  return writeErrors.length > 0 && writeErrors.every((writeError) => writeError.code === 11000)
}

/** The batch indexes of an unordered insert's duplicate-key errors, when those are its only errors. */
function duplicateIndexes(error: unknown, length: number): number[] | undefined {
  const err = error as {name?: string; code?: number; writeErrors?: Array<{code?: number; index?: number}> | {code?: number; index?: number}}
  if (err.name !== 'MongoBulkWriteError' && err.code !== 11000) return undefined
  const writeErrors = Array.isArray(err.writeErrors) ? err.writeErrors : err.writeErrors ? [err.writeErrors] : []
  if (writeErrors.length === 0 || !writeErrors.every((writeError) => writeError.code === 11000 && typeof writeError.index === 'number')) return undefined
  return [...new Set(writeErrors.map((writeError) => writeError.index as number))].filter((index) => index >= 0 && index < length)
}
