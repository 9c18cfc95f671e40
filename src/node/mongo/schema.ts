/**
 * The schema of tagpress's Q&A trees in MongoDB (SPEC §4).
 *
 * One collection, `nodes`, holds every node of both kinds of tree, flat:
 * - document trees: `file` → `section` → `qa`, written by `tagpress build`;
 * - conversation trees: `session` → `question` → reply `question`s, written
 *   by the ask panel's engine (`src/node/ask/store-mongo.ts`).
 *
 * Every node has `_id` (stable, never a position), `tree_id` (the root's
 * `_id`), `kind`, `parent_id` (null for a root), `ancestors` (ids root →
 * parent, so a subtree is one query on `ancestors`), `depth`, `order` (sorts
 * a tree in display order) and `title`. Document nodes add `project`,
 * `path` (the chapter id, for display), their content and a `content_hash`;
 * conversation nodes add `state`, `question`, `answer`, the model, timestamps
 * and a failure reason.
 *
 * A second collection, `trees`, holds one summary per document tree (the ids,
 * hashes and orders of its nodes), so that a build compares a whole site
 * against the database by reading one small document per file instead of
 * every node; and `locks` holds the build lock (`lock.ts`).
 *
 * Only what FerretDB v1 supports is used: no transactions, change streams,
 * `$lookup`/`$graphLookup`/`$facet`, partial/TTL/text indexes, projections on
 * `findOneAnd*`, nested arrays, or `.`/`$` in keys.
 */

export const collections = {nodes: 'nodes', trees: 'trees', locks: 'locks'} as const

/** Kinds of node. Document trees: `file`, `section`, `qa`; conversation trees: `session`, `question`. */
export type NodeKind = 'file' | 'section' | 'qa' | 'session' | 'question'

export const documentKinds = ['file', 'section', 'qa'] as const satisfies readonly NodeKind[]
export type DocumentKind = (typeof documentKinds)[number]

/** What every node has, whatever its kind. */
export interface BaseNode {
  _id: string
  tree_id: string
  kind: NodeKind
  parent_id: string | null
  /** Ids from the root down to the parent (empty for a root). */
  ancestors: string[]
  depth: number
  /** Sorts the nodes of one tree in display order (document order; creation order in a conversation). Values are opaque. */
  order: number
  title: string
  /** When the database document was first written / last changed (BSON dates; not in `nodes.jsonl`). */
  created_at?: Date
  updated_at?: Date
}

/** Fields of every document node (file, section, Q/A). */
export interface DocumentNodeBase extends BaseNode {
  kind: DocumentKind
  /** The project (its site title) the node belongs to: a build deletes only its own project's vanished nodes. */
  project: string
  /** The chapter id (`1.2`) of a section or of the section a Q/A is in (`0`: before the first heading); empty for a file. */
  path: string
  /** The page and fragment on the site, relative to its base (`guide/intro.html#setup`). */
  url: string
  /** SHA-256 (first 32 hex digits) of every field but `_id`, `order`, `content_hash` and the timestamps. */
  content_hash: string
}

export interface FileNode extends DocumentNodeBase {
  kind: 'file'
  parent_id: null
  /** Path in the content folder (`guide/intro.md`). */
  source: string
  description: string
  tags: string[]
}

export interface SectionNode extends DocumentNodeBase {
  kind: 'section'
  parent_id: string
  /** The heading's whole text (the title is its topic when it has one). */
  heading: string
  level: number
  anchor: string
  /** Titles from the top-level section down to this one. */
  chapter_tree: string[]
  /** The slug path the `_id` is made of (with `~2`, `~3` for repeated titles). */
  slug_path: string
}

export interface QaNode extends DocumentNodeBase {
  kind: 'qa'
  parent_id: string
  /** Markdown, tags removed (as in `qa.jsonl`). */
  question: string
  answer: string
  question_html: string
  answer_html: string
  anchor: string
  explicit_id?: string
  chapter_tree: string[]
  /** Site paths of the images the question or answer shows. */
  media?: string[]
}

export type DocumentNode = FileNode | SectionNode | QaNode

/** The state of a conversation node: its answer grows while `streaming`, never changes once `immutable`; a `failed` one may be recalled. */
export type ConversationState = 'streaming' | 'immutable' | 'failed'

/**
 * A conversation node (a session root or a question with its answer), as the
 * ask panel's engine writes it (`src/node/ask/types.ts` has its full shape).
 * The tree code here reads it like any node.
 */
export interface ConversationNode extends BaseNode {
  kind: 'session' | 'question'
  state?: ConversationState
  question?: string
  answer?: string
  model?: {name: string; digest?: string; options?: Record<string, unknown>}
  failure?: {reason: string; message: string}
  finished_at?: Date
  [field: string]: unknown
}

export type TreeDocument = DocumentNode | ConversationNode

/**
 * The summary of one document tree in `trees`: what the database holds of it.
 * Written after the tree's nodes, so a sync cut short leaves a summary that is
 * at worst stale, and the next sync rewrites what it cannot trust.
 *
 * The node list is one string, a line per node, `<content_hash>\t<order>\t<_id>`:
 * FerretDB v1 decodes arrays slowly (a site's summaries read three times
 * faster this way), and nothing queries inside it.
 */
export interface TreeSummary {
  /** The tree's root id (the file id). */
  _id: string
  project: string
  kind: 'document'
  title: string
  source: string
  /** How many nodes the database holds of the tree. */
  nodes: number
  list: string
  created_at?: Date
  updated_at?: Date
}

/** One node of a summary's list. */
export interface SummaryEntry {
  id: string
  hash: string
  order: number
}

export function packSummary(entries: readonly SummaryEntry[]): string {
  return entries.map((entry) => entry.hash + '\t' + (Number.isFinite(entry.order) ? String(entry.order) : '') + '\t' + entry.id).join('\n')
}

export function unpackSummary(list: string | undefined): SummaryEntry[] {
  if (!list) return []
  return list.split('\n').map((line) => {
    const first = line.indexOf('\t')
    const second = line.indexOf('\t', first + 1)
    const order = line.slice(first + 1, second)
    return {hash: line.slice(0, first), order: order === '' ? Number.NaN : Number(order), id: line.slice(second + 1)}
  })
}

/** The build lock: one document per database (see `lock.ts`). */
export interface LockDocument {
  _id: string
  /** Random per build: only its owner renews or releases the lock. */
  owner: string
  project: string
  host: string
  pid: number
  acquired_at: Date
  /** The lease: past it, the lock is free for another build to take over. */
  expires_at: Date
}

/** Indexes created on start (idempotent; plain ascending keys only, which FerretDB v1 accepts). */
export const nodeIndexes = [
  // A tree in display order: one query, sorted.
  {key: {tree_id: 1, order: 1}, name: 'tree_id_1_order_1'},
  // The children of a node.
  {key: {parent_id: 1, order: 1}, name: 'parent_id_1_order_1'},
  // A subtree: every node with X among its ancestors.
  {key: {ancestors: 1}, name: 'ancestors_1'},
  // A project's document nodes.
  {key: {project: 1, kind: 1}, name: 'project_1_kind_1'}
] as const

export const treeIndexes = [{key: {project: 1, kind: 1}, name: 'project_1_kind_1'}] as const

/** Optional fields of document nodes: a rewrite unsets the ones a node no longer has. */
export const optionalDocumentFields = ['explicit_id', 'media'] as const

/** Bump when the shape or the hashing of document nodes changes: every node is then rewritten once. */
export const schemaVersion = 1
