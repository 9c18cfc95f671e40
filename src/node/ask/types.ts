/**
 * The conversation model (SPEC §4): a session is the root of a tree, each
 * question is a node holding its answer. One shape for both stores; dates
 * are ISO strings here (the MongoDB store keeps them as BSON dates).
 */

/** `streaming` while the model writes; `immutable` once finished (never changes again); `failed` with a reason. */
export type NodeState = 'streaming' | 'immutable' | 'failed'

/** Why a node failed: what the panel shows and what decides its message. */
export type FailureReason =
  /** No backend answered (connection refused, DNS, TLS). */
  | 'backend_down'
  /** The backend does not have the model (HTTP 404). */
  | 'model_missing'
  /** The backend answered with an error status or an `{"error":…}` line. */
  | 'backend_error'
  /** The stream ended without its final line. */
  | 'stream_cut'
  /** No first token, no next token, or no end in time. */
  | 'timeout'
  /** The user pressed stop. */
  | 'stopped'
  /** The server that owned the stream stopped (crash, kill, restart) before the answer was finished. */
  | 'restart'
  /** The answer could not be stored. */
  | 'store_error'

export interface Failure {
  reason: FailureReason
  /** One plain sentence, with what to do when there is something to do. */
  message: string
  /** HTTP status of the backend's answer, when there was one. */
  status?: number
  at: string
}

/** A page section given to the model as context, with the label the model cites it by. */
export interface Source {
  /** Citation label, `1`, `2`, … (the model writes `[§1]`). */
  label: string
  /** `<file_id>#<anchor>` (or the file id for text before the first heading). */
  id: string
  page: string
  anchor: string
  /** Link to the section: site base + page path + `#anchor`. */
  href: string
  title: string
  /** Chapter path, ` › `-joined. */
  path: string
}

/** How a node's answer was made (SPEC §4: name, digest, options). */
export interface ModelInfo {
  backend: 'ollama' | 'openai'
  name: string
  digest?: string
  options: Record<string, unknown>
}

export interface Usage {
  prompt_eval_count?: number
  eval_count?: number
  total_duration?: number
  done_reason?: string
}

/** The process that streams into a node: its only writer while it is `streaming`. */
export interface Owner {
  /** Random per engine instance. */
  id: string
  pid: number
  host: string
}

export interface SessionDoc {
  _id: string
  /** The session is the root of its own tree. */
  tree_id: string
  kind: 'session'
  parent_id: null
  ancestors: string[]
  /** 0: the root of its tree. */
  depth: number
  /** Creation time (ms): sessions sort by it like any tree's roots. */
  order: number
  title: string
  /** The page the session was started on (file id). */
  page: string
  /** An ephemeral session keeps no history: not listed, removed when abandoned. */
  ephemeral: boolean
  created_at: string
  updated_at: string
}

export interface NodeDoc {
  _id: string
  tree_id: string
  kind: 'question'
  /** The session for a first question, else the node it replies to. */
  parent_id: string
  /** Root (the session) → parent. */
  ancestors: string[]
  depth: number
  /** Creation order within the tree (milliseconds, unique per tree). */
  order: number
  /** The question, shortened: the node's title in tree views. */
  title: string
  page: string
  scope: 'page' | 'site'
  question: string
  /** Markdown as the model wrote it; grows while streaming, fixed once immutable. */
  answer: string
  state: NodeState
  /** How many times it was answered (1 + recalls). */
  attempts: number
  sources: Source[]
  /** The sources the answer cites (`[§n]`), in order of first citation. */
  citations: Source[]
  model: ModelInfo
  usage?: Usage
  failure?: Failure
  owner?: Owner
  /** While streaming: the owner renews this; a node past it with no owner alive is failed by the sweep. */
  lease_until?: string
  created_at: string
  updated_at: string
  started_at: string
  finished_at?: string
}

/** Fields a conditional node update may set. */
export type NodePatch = Partial<Omit<NodeDoc, '_id' | 'tree_id' | 'kind' | 'parent_id' | 'ancestors' | 'depth' | 'order' | 'question' | 'created_at'>>

/** Fields removed by a conditional update. */
export type NodeUnset = Array<'failure' | 'usage' | 'owner' | 'lease_until' | 'finished_at'>

export interface NodeCondition {
  /** The states the node must be in. `immutable` is never allowed: nothing updates a finished answer. */
  states: Array<Exclude<NodeState, 'immutable'>>
  /** When set, the node must be owned by this engine instance. */
  owner?: string
}

/**
 * The conversation store: the embedded one in `.tagpress/` or MongoDB. Every
 * write to a node is conditional on its state, and no condition admits an
 * immutable node, so a finished answer cannot change through any path.
 */
export interface ConversationStore {
  readonly kind: 'embedded' | 'mongo'
  init(): Promise<void>
  close(): Promise<void>

  insertSession(session: SessionDoc): Promise<void>
  getSession(id: string): Promise<SessionDoc | null>
  /** Newest first. */
  listSessions(options?: {ephemeral?: boolean}): Promise<SessionDoc[]>
  /** Set title and/or updated_at; false when there is no such session. */
  updateSession(id: string, patch: Partial<Pick<SessionDoc, 'title' | 'updated_at'>>): Promise<boolean>
  /** Remove a session and every node of its tree; false when there was none. */
  deleteSession(id: string): Promise<boolean>

  insertNode(node: NodeDoc): Promise<void>
  getNode(id: string): Promise<NodeDoc | null>
  /** Every node of a session's tree, in creation order. */
  listTree(treeId: string): Promise<NodeDoc[]>
  hasChildren(id: string): Promise<boolean>
  /** Apply `set`/`unset`/`inc` when the node meets `condition`; false when it does not (or does not exist). */
  updateNode(id: string, condition: NodeCondition, set: NodePatch, unset?: NodeUnset, inc?: {attempts?: number}): Promise<boolean>
  /** Nodes in `streaming` state (for the sweep that fails those whose owner is gone). */
  listStreaming(): Promise<NodeDoc[]>
  /** Immutable nodes of non-ephemeral sessions, for the export; in tree then creation order. */
  listImmutable(): Promise<NodeDoc[]>
}

export function isoNow(now: number = Date.now()): string {
  return new Date(now).toISOString()
}
