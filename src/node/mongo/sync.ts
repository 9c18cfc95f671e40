import path from 'node:path'
import type {Progress} from '../build/progress.js'
import type {Config} from '../config/types.js'
import {UserError} from '../errors.js'
import type {PublishedFile} from '../outputs/types.js'
import {DocumentCache, projectOf, type FileSummary} from './cache.js'
import {assignOrders} from './orders.js'
import {packSummary, unpackSummary, type DocumentNode, type SummaryEntry, type TreeSummary} from './schema.js'
import {TreeStore} from './store.js'

/** What a sync did, for the build report. */
export interface SyncReport {
  inserted: number
  updated: number
  deleted: number
  unchanged: number
}

/** Nodes whose documents are gathered before a batch of writes is sent. */
const flushNodes = 2000

/**
 * Write the document trees of the published files to MongoDB, idempotently
 * (SPEC §4): nodes that are new are inserted, nodes whose content or order
 * changed are rewritten (upserts filtered by `_id` alone), nodes and trees
 * that vanished are deleted (only when `deleteVanished`: never after a
 * failed build), and nothing else is touched: a rebuild of unchanged content
 * writes nothing.
 *
 * The comparison uses the per-tree summaries in `trees` (ids, hashes and
 * orders of what the database holds), so an unchanged site costs one read of
 * one small document per file; trees without a summary are read from their
 * nodes. A tree's summary is written after its nodes, so a sync cut short
 * (a dropped connection, a killed build) leaves at worst a stale summary, and
 * the next sync converges. The whole sync holds the database's build lock.
 *
 * Expected failures (unreachable server, refused credentials, a connection
 * lost mid-write, a lock held too long by another build) throw `UserError`s
 * with the URI's password masked.
 */
export async function syncTrees(config: Config, files: readonly PublishedFile[], options: {deleteVanished: boolean; progress: Progress}): Promise<SyncReport> {
  const uri = config.mongo.uri
  if (!uri) throw new UserError('No MongoDB URI: pass --mongo, set MONGODB_URI, or mongo.uri in the config')
  const project = projectOf(config)
  const cache = DocumentCache.for(path.join(config.root, '.tagpress'), project)
  const store = await TreeStore.connect(uri, config.mongo.db)
  try {
    await store.ensureIndexes()
    const lock = await store.lock({
      project,
      onWait: (holder) => process.stderr.write('tagpress: MongoDB: waiting for another build (' + holder.host + ', pid ' + holder.pid + ') to release the lock of ' + store.where + '\n')
    })
    try {
      return await syncDocuments(store, cache, project, files, {...options, check: () => lock.assertHeld()})
    } finally {
      await lock.release()
    }
  } catch (error) {
    throw store.userError(error, 'sync')
  } finally {
    await store.close()
    cache.save(files)
  }
}

/** What the database holds of one tree: its stored summary (if any) and its nodes' ids, hashes and orders. */
interface Held {
  stored: TreeSummary | undefined
  entries: SummaryEntry[]
}

interface Plan {
  file: PublishedFile
  treeId: string
  summary: FileSummary
  orders: number[]
  /** Indexes (in `summary`) of nodes to insert / rewrite. */
  inserts: number[]
  updates: number[]
  /** What the database holds of the tree's nodes that the file no longer has. */
  vanished: SummaryEntry[]
  held: Held | undefined
}

/** The sync itself, on an open store under the lock (exported for tests and the benchmark). */
export async function syncDocuments(
  store: TreeStore,
  cache: DocumentCache,
  project: string,
  files: readonly PublishedFile[],
  options: {deleteVanished: boolean; progress?: Progress; check?: () => void; now?: Date}
): Promise<SyncReport> {
  const report: SyncReport = {inserted: 0, updated: 0, deleted: 0, unchanged: 0}
  const now = options.now ?? new Date()
  const progress = options.progress
  const check = options.check ?? (() => undefined)

  // What the database holds: summaries of every project's document trees.
  const held = new Map<string, Held>()
  const others = new Map<string, string>()
  for (const summary of await store.readSummaries()) {
    if (summary.project === project) held.set(summary._id, {stored: summary, entries: unpackSummary(summary.list)})
    else others.set(summary._id, summary.project)
  }
  const storedTrees = [...held.keys()]

  // What the build has: each file's ids and hashes (cached by compile key), all ids unique.
  const wanted: Array<{file: PublishedFile; treeId: string; summary: FileSummary}> = []
  const owners = new Map<string, string>()
  for (const file of files) {
    const summary = cache.summary(file)
    const treeId = file.meta.fileId
    for (const id of summary.ids) {
      const other = owners.get(id)
      if (other !== undefined) throw new UserError('Two published files give the MongoDB node `' + id + '`: ' + other + ' and ' + file.source + ' (rename one of them)')
      owners.set(id, file.source)
    }
    const taken = others.get(treeId)
    if (taken !== undefined) {
      throw new UserError(
        'MongoDB ' + store.where + ' already holds the tree `' + treeId + '` of another project, `' + taken + '` (this one is `' + project + '`): ' +
          'give each project its own database (--db or mongo.db); if the site was renamed, delete the old project\'s nodes first ' +
          '(db.nodes.deleteMany({project: "' + taken + '"}); db.trees.deleteMany({project: "' + taken + '"}))'
      )
    }
    wanted.push({file, treeId, summary})
  }

  // Trees the database has no summary of: read their nodes (none on a first sync).
  const unknown = wanted.filter((item) => !held.has(item.treeId)).map((item) => item.treeId)
  for (const state of await store.readNodeStates(unknown)) {
    if (state.project !== undefined && state.project !== project) {
      throw new UserError('MongoDB ' + store.where + ' already holds the node `' + state._id + '` of another project, `' + state.project + '`: give each project its own database (--db or mongo.db)')
    }
    let tree = held.get(state.tree_id)
    if (!tree) {
      tree = {stored: undefined, entries: []}
      held.set(state.tree_id, tree)
    }
    tree.entries.push({id: state._id, hash: state.content_hash ?? '', order: typeof state.order === 'number' ? state.order : Number.NaN})
  }

  progress?.start('MongoDB', wanted.length)
  let pending: Plan[] = []
  let pendingNodes = 0
  let done = 0
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return
    check()
    await writePlans(store, cache, project, pending, options.deleteVanished, now, report)
    pending = []
    pendingNodes = 0
  }

  for (const item of wanted) {
    const plan = planTree(item, held.get(item.treeId))
    report.unchanged += plan.summary.ids.length - plan.inserts.length - plan.updates.length
    const stored = plan.held?.stored
    const kept = !options.deleteVanished && plan.vanished.length > 0
    // Write when nodes change; rewrite the summary when it is missing or no longer says what the database holds.
    if (plan.inserts.length > 0 || plan.updates.length > 0 || (options.deleteVanished && plan.vanished.length > 0) || !stored || (!kept && !sameSummary(plan, stored))) {
      pending.push(plan)
      pendingNodes += plan.inserts.length + plan.updates.length + 1
      if (pendingNodes >= flushNodes) await flush()
    }
    progress?.tick(++done)
  }
  await flush()

  // Files that vanished: their whole trees (only after a successful build).
  if (options.deleteVanished) {
    const live = new Set(wanted.map((item) => item.treeId))
    const gone = storedTrees.filter((treeId) => !live.has(treeId))
    if (gone.length > 0) {
      check()
      report.deleted += await store.deleteTreeNodes(gone)
      await store.deleteSummaries(gone)
    }
  }
  progress?.done()
  return report
}

/** Compare one file's tree with what the database holds of it. */
function planTree(item: {file: PublishedFile; treeId: string; summary: FileSummary}, held: Held | undefined): Plan {
  const {summary} = item
  const oldHash = new Map<string, string>()
  const oldOrder = new Map<string, number>()
  for (const entry of held?.entries ?? []) {
    oldHash.set(entry.id, entry.hash)
    if (Number.isFinite(entry.order)) oldOrder.set(entry.id, entry.order)
  }
  const orders = assignOrders(summary.ids, oldOrder)
  const inserts: number[] = []
  const updates: number[] = []
  summary.ids.forEach((id, index) => {
    const hash = oldHash.get(id)
    if (hash === undefined) inserts.push(index)
    else if (hash !== summary.hashes[index] || oldOrder.get(id) !== orders[index]) updates.push(index)
  })
  const live = new Set(summary.ids)
  const vanished = (held?.entries ?? []).filter((entry) => !live.has(entry.id))
  return {file: item.file, treeId: item.treeId, summary, orders, inserts, updates, vanished, held}
}

/** The summary a plan leaves: the tree's nodes, plus the vanished ones a failed build keeps. */
function entriesAfter(plan: Plan, deleteVanished: boolean): SummaryEntry[] {
  const entries = plan.summary.ids.map((id, index) => ({id, hash: plan.summary.hashes[index] as string, order: plan.orders[index] as number}))
  if (!deleteVanished) entries.push(...plan.vanished)
  return entries
}

/** Whether a stored summary already says exactly what the database holds of the tree. */
function sameSummary(plan: Plan, stored: TreeSummary): boolean {
  return stored.list === packSummary(entriesAfter(plan, true)) && stored.title === plan.file.meta.title && stored.source === plan.file.source
}

/** Write a batch of trees: nodes first, then deletions, then the summaries (so a cut leaves at worst a stale summary). */
async function writePlans(store: TreeStore, cache: DocumentCache, project: string, plans: readonly Plan[], deleteVanished: boolean, now: Date, report: SyncReport): Promise<void> {
  const inserts: DocumentNode[] = []
  const updates: DocumentNode[] = []
  const summaries: TreeSummary[] = []
  const vanished: string[] = []
  for (const plan of plans) {
    if (plan.inserts.length + plan.updates.length > 0) {
      const docs = cache.documents(plan.file)
      if (docs.length !== plan.summary.ids.length || docs.some((doc, index) => doc._id !== plan.summary.ids[index])) {
        throw new Error('The nodes of ' + plan.file.source + ' differ from their cached summary')
      }
      for (const index of plan.inserts) inserts.push({...(docs[index] as DocumentNode), order: plan.orders[index] as number})
      for (const index of plan.updates) updates.push({...(docs[index] as DocumentNode), order: plan.orders[index] as number})
    }
    if (deleteVanished) vanished.push(...plan.vanished.map((entry) => entry.id))
    const entries = entriesAfter(plan, deleteVanished)
    const stored = plan.held?.stored
    const changed = plan.inserts.length + plan.updates.length > 0 || (deleteVanished && plan.vanished.length > 0)
    summaries.push({
      _id: plan.treeId,
      project,
      kind: 'document',
      title: plan.file.meta.title,
      source: plan.file.source,
      nodes: entries.length,
      list: packSummary(entries),
      created_at: stored?.created_at ?? now,
      updated_at: changed || !stored ? now : (stored.updated_at ?? now)
    })
  }
  await store.insertNodes(inserts, now)
  report.inserted += inserts.length
  await store.upsertNodes(updates, now)
  report.updated += updates.length
  if (vanished.length > 0) report.deleted += await store.deleteNodes(vanished)
  await store.writeSummaries(summaries, new Set(plans.filter((plan) => plan.held?.stored).map((plan) => plan.treeId)))
}
