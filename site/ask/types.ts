/**
 * The shapes the panel reads from the ask API (docs/ask.md, "HTTP API" and
 * "The event stream"). Nodes and sessions are the engine's own types.
 */
import type {FailureReason, NodeDoc, SessionDoc, Source} from '../../src/node/ask/types'

export type {FailureReason, SessionDoc, Source}

/** A node as the API shows it (without the engine's `owner` and `lease_until`). */
export type ApiNode = Omit<NodeDoc, 'owner' | 'lease_until'>

export interface TreeNode extends ApiNode {
  children: TreeNode[]
}

/** `GET /api/ask/status`: the backend check. */
export interface AskStatus {
  ok: boolean
  backend: 'ollama' | 'openai'
  host: string
  model: string
  version?: string
  reason?: FailureReason
  message: string
}

/** `POST /api/ask`, `/reply`, `/recall`. */
export interface Asked {
  node_id: string
  session_id: string
  node: ApiNode
}

export interface Block {
  i: number
  md: string
}

export interface StartEvent {
  seq: number
  node_id: string
  session_id: string
  parent_id: string
  attempt: number
  question: string
  page: string
  scope: 'page' | 'site'
  model: {backend: string; name: string}
  sources: Source[]
}

export interface AnswerEvent {
  seq: number
  delta: string
  final: Block[]
  open: Block | null
}

export interface DoneEvent {
  seq: number
  state: 'immutable'
  blocks: number
  answer_chars: number
  citations: Source[]
  model: {backend: string; name: string; digest?: string}
  finished_at: string
}

export interface FailedEvent {
  seq: number
  state: 'failed'
  reason: FailureReason
  message: string
  status?: number
  answer_chars: number
  recallable: boolean
  at: string
}
