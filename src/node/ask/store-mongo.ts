import {MongoClient, type Collection, type Document, type Filter} from 'mongodb'
import {collections, nodeIndexes} from '../mongo/schema.js'
import {assertCondition} from './store-embedded.js'
import type {ConversationStore, NodeCondition, NodeDoc, NodePatch, NodeUnset, SessionDoc} from './types.js'

/**
 * Conversations in MongoDB (SPEC §4), in the `nodes` collection the document
 * trees use, with the same schema: `_id`, `tree_id`, `kind` (`session` for a
 * conversation's root, `question` for each node), `parent_id`, `ancestors`
 * (root → parent), `state`, `title`, `question`, `answer`, `order`, and
 * timestamps as BSON dates. A whole conversation is one `find({tree_id})`,
 * built into a tree in memory.
 *
 * Written to the subset FerretDB v1 accepts as well (no transactions,
 * change streams, `$lookup`/`$graphLookup`, partial or TTL indexes, no
 * projection on `findOneAnd*`): single-document writes only, a cleanup job
 * instead of TTL, in-process fan-out instead of change streams.
 *
 * Atomicity. Every node update is one `updateOne` whose filter carries the
 * states it may change from (and, while streaming, the owner). On MongoDB
 * such a conditional single-document update is atomic, so of two concurrent
 * recalls of a failed node exactly one matches, and a sweep can never fail a
 * node its owner has just finished. FerretDB v1 runs an update as a query,
 * then a write, not atomically across connections: there correctness rests
 * on each node having one writer — the engine that streams into it — and
 * on the small window of the conflicting cases above (two recalls of one
 * node at the same instant could both win). The test of those races runs
 * against a real MongoDB only, when `TAGPRESS_TEST_MONGODB_URI` is set.
 */
export class MongoStore implements ConversationStore {
  readonly kind = 'mongo' as const
  private readonly client: MongoClient
  private readonly nodes: Collection<Document>

  constructor(
    uri: string,
    database: string,
    options: {collection?: string} = {}
  ) {
    this.client = new MongoClient(uri, {serverSelectionTimeoutMS: 5000, connectTimeoutMS: 5000})
    this.nodes = this.client.db(database).collection(options.collection ?? collections.nodes)
  }

  async init(): Promise<void> {
    await this.client.connect()
    // The indexes of both kinds of tree (src/node/mongo/schema.ts), plus one for the sweep of streaming nodes.
    // Only the missing ones, one per command (FerretDB v1 drops the connection when one command names several existing ones).
    const existing = new Set<string>()
    try {
      for (const index of await this.nodes.listIndexes().toArray()) existing.add(String(index.name))
    } catch (error) {
      if ((error as {code?: number}).code !== 26) throw error
    }
    for (const index of [...nodeIndexes, {key: {kind: 1, state: 1}, name: 'kind_1_state_1'}]) {
      if (!existing.has(index.name)) await this.nodes.createIndexes([{key: {...index.key}, name: index.name}])
    }
  }

  async close(): Promise<void> {
    await this.client.close()
  }

  async insertSession(session: SessionDoc): Promise<void> {
    await this.nodes.insertOne(toStored(session))
  }

  async getSession(id: string): Promise<SessionDoc | null> {
    const found = await this.nodes.findOne({_id: id as never, kind: 'session'})
    return found ? (fromStored(found) as SessionDoc) : null
  }

  async listSessions(options: {ephemeral?: boolean} = {}): Promise<SessionDoc[]> {
    const filter: Filter<Document> = options.ephemeral ? {kind: 'session'} : {kind: 'session', ephemeral: {$ne: true}}
    return (await this.nodes.find(filter).sort({updated_at: -1, _id: -1}).toArray()).map((found) => fromStored(found) as SessionDoc)
  }

  async updateSession(id: string, patch: Partial<Pick<SessionDoc, 'title' | 'updated_at'>>): Promise<boolean> {
    const result = await this.nodes.updateOne({_id: id as never, kind: 'session'}, {$set: toStored(patch)})
    return result.matchedCount === 1
  }

  async deleteSession(id: string): Promise<boolean> {
    if (!(await this.getSession(id))) return false
    // Nodes first, the root last: a delete cut short leaves the session listed, and deleting again finishes it.
    await this.nodes.deleteMany({tree_id: id, kind: 'question'})
    const result = await this.nodes.deleteOne({_id: id as never, kind: 'session'})
    return result.deletedCount === 1
  }

  async insertNode(node: NodeDoc): Promise<void> {
    await this.nodes.insertOne(toStored(node))
  }

  async getNode(id: string): Promise<NodeDoc | null> {
    const found = await this.nodes.findOne({_id: id as never, kind: 'question'})
    return found ? (fromStored(found) as NodeDoc) : null
  }

  async listTree(treeId: string): Promise<NodeDoc[]> {
    return (await this.nodes.find({tree_id: treeId, kind: 'question'}).sort({order: 1, _id: 1}).toArray()).map((found) => fromStored(found) as NodeDoc)
  }

  async hasChildren(id: string): Promise<boolean> {
    return (await this.nodes.findOne({parent_id: id, kind: 'question'}, {projection: {_id: 1}})) !== null
  }

  async updateNode(id: string, condition: NodeCondition, set: NodePatch, unset: NodeUnset = [], inc: {attempts?: number} = {}): Promise<boolean> {
    assertCondition(condition)
    // Atomic on MongoDB; query-then-write on FerretDB v1 (see the class comment).
    const filter: Filter<Document> = {_id: id as never, kind: 'question', state: {$in: condition.states}, ...(condition.owner !== undefined ? {'owner.id': condition.owner} : {})}
    const update: Document = {$set: toStored(set)}
    if (unset.length > 0) update.$unset = Object.fromEntries(unset.map((key) => [key, '']))
    if (inc.attempts) update.$inc = {attempts: inc.attempts}
    const result = await this.nodes.updateOne(filter, update)
    return result.matchedCount === 1
  }

  async listStreaming(): Promise<NodeDoc[]> {
    return (await this.nodes.find({kind: 'question', state: 'streaming'}).toArray()).map((found) => fromStored(found) as NodeDoc)
  }

  async listImmutable(): Promise<NodeDoc[]> {
    const ephemeral = new Set((await this.nodes.find({kind: 'session', ephemeral: true}, {projection: {_id: 1}}).toArray()).map((found) => String(found._id)))
    const nodes = (await this.nodes.find({kind: 'question', state: 'immutable'}).sort({tree_id: 1, order: 1, _id: 1}).toArray()).map((found) => fromStored(found) as NodeDoc)
    return nodes.filter((node) => !ephemeral.has(node.tree_id))
  }
}

const dateFields = new Set(['created_at', 'updated_at', 'started_at', 'finished_at', 'lease_until'])

/** ISO strings → BSON dates (top level and `failure.at`), so dates sort and compare as dates in the database. */
function toStored(value: object): Document {
  const stored: Document = {}
  for (const [key, field] of Object.entries(value)) {
    if (field === undefined) continue
    if (dateFields.has(key) && typeof field === 'string') stored[key] = new Date(field)
    else if (key === 'failure' && field && typeof field === 'object') stored[key] = {...field, at: new Date((field as {at: string}).at)}
    else stored[key] = field
  }
  return stored
}

function fromStored(found: Document): Document {
  const value: Document = {}
  for (const [key, field] of Object.entries(found)) {
    if (field instanceof Date) value[key] = field.toISOString()
    else if (key === 'failure' && field && typeof field === 'object' && (field as {at?: unknown}).at instanceof Date) value[key] = {...field, at: ((field as {at: Date}).at).toISOString()}
    else value[key] = field
  }
  return value
}
