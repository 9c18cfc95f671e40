import {KeyedQueue} from './keyed-queue.js'
import {randomBytes} from 'node:crypto'
import {hostname} from 'node:os'
import type {Config} from '../config/types.js'
import {processRuns} from '../process-runs.js'
import {BackendError, isAbortError, type ChatMessage, type ModelBackend} from './backend.js'
import {BlockSplitter, splitAnswer} from './blocks.js'
import {isId, newId} from './ids.js'
import {citationsOf, contextMessage, historyMessages, systemPrompt} from './prompt.js'
import {PageNotFound, Retriever} from './retrieval.js'
import {isoNow, type ConversationStore, type FailureReason, type ModelInfo, type NodeDoc, type Owner, type SessionDoc, type Source, type Usage} from './types.js'

/** Limits and timings of the engine; every one has a default (the config has no keys for them yet). */
export interface EngineLimits {
  /** Longest question, in characters. */
  questionChars: number
  /** Longest session title, in characters. */
  titleChars: number
  /** Persist a growing answer at most this often (ms): batched, never once per token. */
  persistMs: number
  /** A streaming node's lease (ms), renewed while it streams; past it, with its owner gone, the sweep fails the node. */
  leaseMs: number
  /** Time to the first token (ms), model loading included. */
  firstTokenMs: number
  /** Longest pause between tokens (ms). */
  idleMs: number
  /** Longest answer (ms). */
  totalMs: number
  /** An ephemeral session untouched this long (ms) is removed by the cleanup job. */
  ephemeralIdleMs: number
  /** How often the cleanup job runs (ms). */
  cleanupMs: number
  /** A finished stream stays in memory this long (ms), so late subscribers get the very same events. */
  keepFinishedMs: number
  /** Answers streaming at once; more is a 503. */
  maxStreams: number
  /** Context window the prompt must fit (tokens); default `llm.options.num_ctx`, else 4096. */
  contextTokens: number
  /** Tokens kept free for the answer; default `llm.options.num_predict` when positive, else 768. */
  answerTokens: number
  /** Share of the context window that conversation history may take. */
  historyShare: number
}

export const ASK_DEFAULT_LIMITS: EngineLimits = {
  questionChars: 2000,
  titleChars: 200,
  persistMs: 1000,
  leaseMs: 30_000,
  firstTokenMs: 180_000,
  idleMs: 60_000,
  totalMs: 600_000,
  ephemeralIdleMs: 3_600_000,
  cleanupMs: 600_000,
  keepFinishedMs: 60_000,
  maxStreams: 128,
  contextTokens: 4096,
  answerTokens: 768,
  historyShare: 0.25
}

/** An error with an HTTP status and a code the panel can switch on. */
export class AskError extends Error {
  override name = 'AskError'
  constructor(
    readonly status: number,
    readonly code: string,
    message: string
  ) {
    super(message)
  }
}

/** A listener of one node's stream: `frame` is the event as SSE text, identical for every subscriber. */
export interface StreamSink {
  event(name: StreamEventName, data: Record<string, unknown>, frame: string): void
  end(): void
}

export type StreamEventName = 'start' | 'answer' | 'done' | 'failed'

/** Engine instances alive in this process (a restarted engine in the same process must not mistake their nodes for orphans). */
const liveOwners = new Set<string>()

class LiveStream {
  /**
   * Every event so far as SSE text, for subscribers that join late. Only the text is kept (a late joiner's event
   * objects are parsed back from it): 50 streams keep ~10,000 of these alive, and every object that survives
   * adds to the young-generation collections that pause all streams at once.
   */
  readonly frames: string[] = []
  readonly sinks = new Set<StreamSink>()
  readonly controller = new AbortController()
  readonly splitter = new BlockSplitter()
  seq = 0
  ended = false
  stopReason: 'stopped' | 'timeout' | 'deleted' | 'abandoned' | undefined
  timeoutMessage = ''
  finished: Promise<void>
  private resolveFinished!: () => void

  constructor(
    readonly nodeId: string,
    readonly treeId: string,
    readonly attempt: number,
    /** Driven by another process (polled from the store). */
    readonly remote: boolean
  ) {
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve))
  }

  emit(name: StreamEventName, payload: Record<string, unknown>): void {
    const seq = ++this.seq
    const data = {seq, ...payload}
    const frame = 'id: ' + this.attempt + '-' + seq + '\nevent: ' + name + '\ndata: ' + JSON.stringify(data) + '\n\n'
    this.frames.push(frame)
    for (const sink of this.sinks) sink.event(name, data, frame)
  }

  end(): void {
    if (this.ended) return
    this.ended = true
    for (const sink of this.sinks) sink.end()
    this.sinks.clear()
    this.resolveFinished()
  }
}

export interface EngineOptions {
  store: ConversationStore
  backend: ModelBackend
  retriever?: Retriever
  /** Drafts can be asked about (the dev server). */
  drafts?: boolean
  limits?: Partial<EngineLimits>
  log?: (message: string) => void
}

/**
 * The conversation engine: sessions and question nodes, each answered by a
 * stream from the model backend that any number of subscribers follow from
 * its start. The node lifecycle (SPEC §4):
 *
 *   ask/reply → streaming → immutable
 *                         ↘ failed (reason) → recall → streaming → …
 *
 * A node is persisted when created, while it grows (batched), and when it
 * ends; only the engine that streams into a node writes it (its `owner`),
 * and every write is conditional on the node's state, never admitting an
 * immutable one.
 */
export class AskEngine {
  readonly limits: EngineLimits
  readonly owner: Owner
  readonly store: ConversationStore
  readonly backend: ModelBackend
  readonly retriever: Retriever
  private readonly live = new Map<string, LiveStream>()
  /**
   * State-changing checks of one node one at a time in this process. The
   * store's conditional writes make them safe across processes on MongoDB;
   * FerretDB v1's are not atomic, so there this lock is what keeps two
   * recalls (or a recall and a reply) of one node from both succeeding, as
   * long as one server process answers for the node.
   */
  private readonly locks = new KeyedQueue()
  private readonly log: (message: string) => void
  private cleanupTimer: NodeJS.Timeout | undefined
  private started: Promise<void> | undefined
  private closed = false
  private digest: string | undefined

  constructor(
    private readonly config: Config,
    options: EngineOptions
  ) {
    const llmOptions = config.llm.options
    const numCtx = typeof llmOptions.num_ctx === 'number' ? llmOptions.num_ctx : undefined
    const numPredict = typeof llmOptions.num_predict === 'number' && llmOptions.num_predict > 0 ? llmOptions.num_predict : undefined
    this.limits = {...ASK_DEFAULT_LIMITS, ...(numCtx ? {contextTokens: numCtx} : {}), ...(numPredict ? {answerTokens: numPredict} : {}), ...options.limits}
    this.owner = {id: randomBytes(8).toString('hex'), pid: process.pid, host: hostname()}
    this.store = options.store
    this.backend = options.backend
    this.retriever = options.retriever ?? new Retriever(config, {drafts: options.drafts === true})
    this.log = options.log ?? (() => undefined)
  }

  /** Open the store, fail the nodes a dead process left streaming, start the cleanup job. Idempotent. */
  start(): Promise<void> {
    this.started ??= (async () => {
      liveOwners.add(this.owner.id)
      await this.store.init()
      await this.sweep()
      this.refreshDigest()
      this.cleanupTimer = setInterval(() => void this.cleanup().catch((error: Error) => this.log('cleanup failed: ' + error.message)), this.limits.cleanupMs)
      this.cleanupTimer.unref()
    })()
    return this.started
  }

  /** Stop every stream (their nodes fail with reason `restart`), the cleanup job, and the store. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.cleanupTimer) clearInterval(this.cleanupTimer)
    const running = [...this.live.values()].filter((stream) => !stream.ended && !stream.remote)
    for (const stream of running) {
      stream.stopReason = 'timeout'
      stream.timeoutMessage = 'The server stopped before the answer was finished.'
      stream.controller.abort()
    }
    for (const stream of this.live.values()) if (stream.remote) stream.end()
    await Promise.allSettled(running.map((stream) => stream.finished))
    liveOwners.delete(this.owner.id)
    await this.store.close()
  }

  // ---- sessions ----

  async createSession(input: {title?: unknown; page?: unknown; ephemeral?: unknown}): Promise<SessionDoc> {
    await this.start()
    const title = input.title === undefined ? '' : this.checkTitle(input.title)
    const page = input.page === undefined ? '' : await this.checkPage(input.page)
    const time = Date.now()
    const now = isoNow(time)
    const id = newId('s')
    const session: SessionDoc = {_id: id, tree_id: id, kind: 'session', parent_id: null, ancestors: [], depth: 0, order: time, title, page, ephemeral: input.ephemeral === true, created_at: now, updated_at: now}
    await this.store.insertSession(session)
    return session
  }

  async listSessions(options: {ephemeral?: boolean} = {}): Promise<SessionDoc[]> {
    await this.start()
    return this.store.listSessions(options)
  }

  async renameSession(id: string, title: unknown): Promise<SessionDoc> {
    await this.start()
    const checked = this.checkTitle(title)
    if (!(await this.store.updateSession(id, {title: checked, updated_at: isoNow()}))) throw new AskError(404, 'session_not_found', 'No session ' + id)
    return (await this.store.getSession(id)) as SessionDoc
  }

  async deleteSession(id: string): Promise<void> {
    await this.start()
    if (!(await this.store.getSession(id))) throw new AskError(404, 'session_not_found', 'No session ' + id)
    const streams = [...this.live.values()].filter((stream) => stream.treeId === id && !stream.ended)
    for (const stream of streams) {
      if (stream.remote) {
        stream.end()
        continue
      }
      stream.stopReason = 'deleted'
      stream.controller.abort()
    }
    await Promise.allSettled(streams.map((stream) => stream.finished))
    await this.store.deleteSession(id)
  }

  // ---- nodes ----

  /** Ask about a page: a node in the given session (or a new one), streaming at once. */
  async ask(input: {session_id?: unknown; page?: unknown; question?: unknown; ephemeral?: unknown; scope?: unknown}): Promise<NodeDoc> {
    await this.start()
    const question = this.checkQuestion(input.question)
    const page = await this.checkPage(input.page)
    const scope = this.checkScope(input.scope)
    this.checkCapacity()
    let session: SessionDoc
    if (input.session_id !== undefined && input.session_id !== null) {
      const found = isId(input.session_id, 's') ? await this.store.getSession(input.session_id) : null
      if (!found) throw new AskError(404, 'session_not_found', 'No session ' + String(input.session_id))
      session = found
    } else {
      session = await this.createSession({title: question.slice(0, 80), page, ephemeral: input.ephemeral === true})
    }
    if (session.title === '') await this.store.updateSession(session._id, {title: question.slice(0, 80)})
    return this.createNode(session, null, question, page, scope)
  }

  /** A child of an immutable or failed node, with its ancestors' Q&A as history. */
  async reply(parentId: string, input: {question?: unknown; page?: unknown; scope?: unknown}): Promise<NodeDoc> {
    await this.start()
    const question = this.checkQuestion(input.question)
    // Serialized with recalls of the parent: a reply and a recall of one failed node never interleave in this process.
    return this.locks.run(parentId, () => this.replyNow(parentId, question, input))
  }

  private async replyNow(parentId: string, question: string, input: {page?: unknown; scope?: unknown}): Promise<NodeDoc> {
    const parent = await this.store.getNode(parentId)
    if (!parent) throw new AskError(404, 'node_not_found', 'No node ' + parentId)
    if (parent.state === 'streaming') throw new AskError(409, 'parent_streaming', 'A reply can only follow a finished or failed answer; this one is still streaming.')
    const page = input.page === undefined ? parent.page : await this.checkPage(input.page)
    const scope = input.scope === undefined ? parent.scope : this.checkScope(input.scope)
    this.checkCapacity()
    const session = await this.store.getSession(parent.tree_id)
    if (!session) throw new AskError(404, 'session_not_found', 'No session ' + parent.tree_id)
    return this.createNode(session, parent, question, page, scope)
  }

  /** Answer a failed node again: same node, a new attempt. */
  async recall(id: string): Promise<NodeDoc> {
    await this.start()
    return this.locks.run(id, () => this.recallNow(id))
  }

  private async recallNow(id: string): Promise<NodeDoc> {
    const node = await this.store.getNode(id)
    if (!node) throw new AskError(404, 'node_not_found', 'No node ' + id)
    if (node.state === 'immutable') throw new AskError(409, 'immutable', 'This answer is finished and immutable: it cannot be answered again. Ask again as a new question.')
    if (node.state === 'streaming') throw new AskError(409, 'streaming', 'This answer is still streaming.')
    if (await this.store.hasChildren(id)) throw new AskError(409, 'has_replies', 'This failed answer already has replies, and recalling it would change their history. Ask again as a new question instead.')
    this.checkCapacity()
    const now = Date.now()
    const attempt = node.attempts + 1
    // Conditional on `failed`: of two recalls at once, one wins (on MongoDB; see store-mongo.ts for FerretDB).
    const won = await this.store.updateNode(
      id,
      {states: ['failed']},
      {state: 'streaming', answer: '', citations: [], owner: this.owner, lease_until: isoNow(now + this.limits.leaseMs), started_at: isoNow(now), updated_at: isoNow(now), model: this.modelInfo()},
      ['failure', 'usage', 'finished_at'],
      {attempts: 1}
    )
    if (!won) throw new AskError(409, 'conflict', 'This node changed meanwhile; reload it.')
    await this.store.updateSession(node.tree_id, {updated_at: isoNow(now)})
    const updated = (await this.store.getNode(id)) as NodeDoc
    this.run(updated, attempt)
    return updated
  }

  /** Stop a streaming node: the backend request is aborted, the node fails with reason `stopped`. */
  async stop(id: string): Promise<NodeDoc> {
    await this.start()
    const node = await this.store.getNode(id)
    if (!node) throw new AskError(404, 'node_not_found', 'No node ' + id)
    const stream = this.live.get(id)
    if (!stream || stream.ended || stream.remote) {
      if (node.state === 'streaming') throw new AskError(409, 'not_owner', 'Another server process is answering this node; stop it there.')
      throw new AskError(409, 'not_streaming', 'This answer is not streaming (it is ' + node.state + ').')
    }
    stream.stopReason = 'stopped'
    stream.controller.abort()
    await stream.finished
    return (await this.store.getNode(id)) as NodeDoc
  }

  async getNode(id: string): Promise<NodeDoc> {
    await this.start()
    const node = await this.store.getNode(id)
    if (!node) throw new AskError(404, 'node_not_found', 'No node ' + id)
    return node
  }

  /** A session with its nodes, flat (creation order) and nested. */
  async tree(sessionId: string): Promise<{session: SessionDoc; nodes: NodeDoc[]; tree: TreeNode[]}> {
    await this.start()
    const session = await this.store.getSession(sessionId)
    if (!session) throw new AskError(404, 'session_not_found', 'No session ' + sessionId)
    const nodes = await this.store.listTree(sessionId)
    return {session, nodes, tree: nest(session._id, nodes)}
  }

  /**
   * Follow a node's stream from its start (or after `lastEventId`): every
   * subscriber gets the same events. A finished node's stream is replayed
   * from memory while it is kept, else rebuilt from the stored node. Returns
   * a function that unsubscribes; `false` when there is nothing more to send
   * after `lastEventId` (the HTTP layer answers 204).
   */
  async subscribe(id: string, sink: StreamSink, lastEventId?: string): Promise<(() => void) | false> {
    await this.start()
    let stream = this.live.get(id)
    if (!stream) {
      const node = await this.store.getNode(id)
      if (!node) throw new AskError(404, 'node_not_found', 'No node ' + id)
      const recallable = node.state === 'failed' && !(await this.store.hasChildren(id))
      stream = this.live.get(id) ?? (node.state === 'streaming' && node.owner?.id !== this.owner.id ? this.watch(node) : this.replayOf(node, recallable))
    }
    const [attempt, seq] = parseEventId(lastEventId)
    const from = attempt === stream.attempt ? seq : 0
    if (stream.ended && from >= stream.frames.length) return false
    for (const frame of stream.frames.slice(from)) {
      const [, name, data] = /^id: [^\n]*\nevent: ([^\n]*)\ndata: ([^\n]*)\n\n$/.exec(frame) as RegExpExecArray
      sink.event(name as StreamEventName, JSON.parse(data as string) as Record<string, unknown>, frame)
    }
    if (stream.ended) {
      sink.end()
      return () => undefined
    }
    stream.sinks.add(sink)
    const live = stream
    return () => {
      if (!live.sinks.delete(sink)) return
      if (live.sinks.size === 0) void this.abandoned(live).catch((error: Error) => this.log('ephemeral cleanup failed: ' + error.message))
    }
  }

  /** Fail streaming nodes whose owner is gone (a crash, a kill, a restart). */
  async sweep(): Promise<number> {
    let failed = 0
    const now = Date.now()
    for (const node of await this.store.listStreaming()) {
      if (node.owner?.id === this.owner.id) continue
      if (!ownerGone(node, now)) continue
      const ok = await this.store.updateNode(
        node._id,
        {states: ['streaming'], ...(node.owner ? {owner: node.owner.id} : {})},
        {state: 'failed', failure: {reason: 'restart', message: 'The server stopped before the answer was finished; recall it to answer again.', at: isoNow(now)}, updated_at: isoNow(now), finished_at: isoNow(now)},
        ['owner', 'lease_until']
      )
      if (ok) failed++
    }
    if (failed > 0) this.log(failed + ' answer(s) left streaming by a stopped server are marked failed')
    return failed
  }

  /** The cleanup job: orphaned streaming nodes, abandoned ephemeral sessions. */
  async cleanup(now = Date.now()): Promise<{failed: number; removed: number}> {
    const failed = await this.sweep()
    let removed = 0
    for (const session of await this.store.listSessions({ephemeral: true})) {
      if (!session.ephemeral) continue
      if (Date.parse(session.updated_at) > now - this.limits.ephemeralIdleMs) continue
      if ([...this.live.values()].some((stream) => stream.treeId === session._id && !stream.ended)) continue
      const nodes = await this.store.listTree(session._id)
      if (nodes.some((node) => node.state === 'streaming' && !ownerGone(node, now))) continue
      if (await this.store.deleteSession(session._id)) removed++
    }
    return {failed, removed}
  }

  // ---- internals ----

  /** Learn the model's digest (provenance) in the background; it never delays an answer. */
  private refreshDigest(): void {
    if (this.digest) return
    void this.backend.describe().then(
      (description) => {
        if (description.digest) this.digest = description.digest
      },
      () => undefined
    )
  }

  private modelInfo(): ModelInfo {
    return {backend: this.backend.kind, name: this.backend.model, ...(this.digest ? {digest: this.digest} : {}), options: this.backend.options}
  }

  private async createNode(session: SessionDoc, parent: NodeDoc | null, question: string, page: string, scope: 'page' | 'site'): Promise<NodeDoc> {
    const now = Date.now()
    // A failed parent with a reply is no longer recallable: its kept stream (which said it was) goes.
    const kept = parent ? this.live.get(parent._id) : undefined
    if (kept?.ended) this.live.delete(kept.nodeId)
    const node: NodeDoc = {
      _id: newId('n'),
      tree_id: session._id,
      kind: 'question',
      parent_id: parent ? parent._id : session._id,
      ancestors: parent ? [...parent.ancestors, parent._id] : [session._id],
      depth: parent ? parent.depth + 1 : 1,
      order: now,
      title: question.length > 80 ? question.slice(0, 79) + '…' : question,
      page,
      scope,
      question,
      answer: '',
      state: 'streaming',
      attempts: 1,
      sources: [],
      citations: [],
      model: this.modelInfo(),
      owner: this.owner,
      lease_until: isoNow(now + this.limits.leaseMs),
      created_at: isoNow(now),
      updated_at: isoNow(now),
      started_at: isoNow(now)
    }
    await this.store.insertNode(node)
    await this.store.updateSession(session._id, {updated_at: isoNow(now)})
    this.run(node, 1)
    return node
  }

  /** Start streaming into a node (not awaited: the stream outlives the request that started it). */
  private run(node: NodeDoc, attempt: number): void {
    const stream = new LiveStream(node._id, node.tree_id, attempt, false)
    const previous = this.live.get(node._id)
    if (previous && !previous.ended) previous.end()
    this.live.set(node._id, stream)
    void this.drive(stream, node).catch((error: Error) => {
      this.log('stream of ' + node._id + ' failed: ' + (error.stack ?? error.message))
      stream.end()
    })
  }

  private async drive(stream: LiveStream, node: NodeDoc): Promise<void> {
    const limits = this.limits
    const condition = {states: ['streaming' as const], owner: this.owner.id}
    let answer = ''
    let dirty = false
    let persisting: Promise<void> = Promise.resolve()
    let persistTimer: NodeJS.Timeout | undefined
    let leaseTimer: NodeJS.Timeout | undefined
    let sources: Source[] = []
    let promptChars = 0
    const timers: NodeJS.Timeout[] = []
    const abortFor = (message: string): void => {
      if (stream.stopReason) return
      stream.stopReason = 'timeout'
      stream.timeoutMessage = message
      stream.controller.abort()
    }
    // One write in flight per node: ticks while it runs only mark the answer dirty, and the write that
    // follows takes the latest text (a slow store never builds a backlog).
    let writing = false
    let closing = false
    const persist = (): Promise<void> => {
      // Called early (lease renewal) it replaces the pending tick: never two timers, none left after the end.
      if (persistTimer) clearTimeout(persistTimer)
      persistTimer = undefined
      if (!dirty || writing) return persisting
      dirty = false
      writing = true
      const text = answer
      const now = Date.now()
      persisting = this.store
        .updateNode(node._id, condition, {answer: text, updated_at: isoNow(now), lease_until: isoNow(now + limits.leaseMs)})
        .then(
          () => undefined,
          (error: Error) => this.log('could not store the growing answer of ' + node._id + ': ' + error.message)
        )
        .then(() => {
          writing = false
          if (dirty && !closing) persistTimer ??= setTimeout(persist, limits.persistMs)
        })
      return persisting
    }
    const renewLease = (): void => {
      dirty = true
      void persist()
    }
    // Time limits without a timer per token: the last token's time, checked by one timer per stream.
    let lastTokenAt = Date.now()
    let gotToken = false
    const watchdog = setInterval(() => {
      const quiet = Date.now() - lastTokenAt
      if (!gotToken && quiet > limits.firstTokenMs) abortFor('No answer from the model within ' + Math.round(limits.firstTokenMs / 1000) + ' s.')
      else if (gotToken && quiet > limits.idleMs) abortFor('The model stopped sending text for ' + Math.round(limits.idleMs / 1000) + ' s.')
    }, Math.max(20, Math.min(1000, Math.floor(Math.min(limits.firstTokenMs, limits.idleMs) / 4))))
    timers.push(watchdog)
    let usage: Usage = {}
    let started = false
    let failure: {reason: FailureReason; message: string; status?: number} | undefined
    try {
      // Context: the page's best sections under the budget, the ancestors as history.
      const view = await this.retriever.page(node.page)
      const system = systemPrompt(this.config.site.title)
      const estimate = (text: string): number => this.retriever.estimator.estimate(text)
      const ancestors = node.ancestors.length > 1 ? await this.ancestorsOf(node) : []
      const history = historyMessages(ancestors, Math.floor(limits.contextTokens * limits.historyShare), estimate)
      const historyTokens = history.reduce((sum, message) => sum + estimate(message.content) + 4, 0)
      const budget = Math.max(128, Math.floor((limits.contextTokens - limits.answerTokens - estimate(system) - estimate(node.question) - historyTokens - 64) * 0.9))
      const context = await this.retriever.context(node.question, {page: node.page, scope: node.scope, history: ancestors.map((ancestor) => ancestor.question), budget})
      sources = context.sources
      const messages: ChatMessage[] = [{role: 'system', content: system}, ...history, {role: 'user', content: contextMessage({fileId: view.fileId, title: view.title}, context.parts, node.question)}]
      promptChars = messages.reduce((sum, message) => sum + message.content.length, 0)
      stream.emit('start', {
        node_id: node._id,
        session_id: node.tree_id,
        parent_id: node.parent_id,
        attempt: stream.attempt,
        question: node.question,
        page: node.page,
        scope: node.scope,
        model: {backend: this.backend.kind, name: this.backend.model},
        sources
      })
      started = true
      await this.store.updateNode(node._id, condition, {sources, updated_at: isoNow()})
      this.refreshDigest()

      timers.push(setTimeout(() => abortFor('The answer took longer than ' + Math.round(limits.totalMs / 1000) + ' s.'), limits.totalMs))
      lastTokenAt = Date.now()
      leaseTimer = setInterval(renewLease, Math.max(1000, Math.floor(limits.leaseMs / 3)))
      for await (const event of this.backend.chat({messages, signal: stream.controller.signal})) {
        if (event.type === 'done') {
          usage = event.usage
          break
        }
        lastTokenAt = Date.now()
        gotToken = true
        answer += event.text
        const update = stream.splitter.push(event.text)
        stream.emit('answer', {delta: event.text, final: update.final, open: update.open})
        dirty = true
        persistTimer ??= setTimeout(persist, limits.persistMs)
      }
    } catch (error) {
      failure = this.failureOf(error, stream)
      if (!started) stream.emit('start', {...startPayload(node), attempt: stream.attempt, sources: []})
    } finally {
      closing = true
      for (const timer of timers) clearTimeout(timer)
      if (persistTimer) clearTimeout(persistTimer)
      if (leaseTimer) clearInterval(leaseTimer)
    }
    await persisting

    if (stream.stopReason === 'deleted' || stream.stopReason === 'abandoned') {
      // The session is being removed: nothing to store; subscribers (if any) learn why the stream ends.
      stream.emit('failed', {state: 'failed', reason: 'stopped', message: 'The conversation was deleted.', answer_chars: answer.length, recallable: false, at: isoNow()})
      stream.end()
      this.forget(stream)
      return
    }
    const now = Date.now()
    const model = this.modelInfo()
    if (!failure) {
      const rest = stream.splitter.finish()
      const citations = citationsOf(answer, sources)
      // The answer's last blocks go out at once; `done` only once the answer is stored for good.
      stream.emit('answer', {delta: '', final: rest.final, open: null})
      let stored = false
      try {
        stored = await this.store.updateNode(node._id, condition, {state: 'immutable', answer, citations, usage, model, updated_at: isoNow(now), finished_at: isoNow(now)}, ['owner', 'lease_until'])
      } catch (error) {
        this.log('could not store the answer of ' + node._id + ': ' + (error as Error).message)
      }
      if (stored) {
        this.retriever.estimator.calibrate(promptChars, usage.prompt_eval_count)
        stream.emit('done', {state: 'immutable', blocks: stream.splitter.finalCount, answer_chars: answer.length, citations, usage, model, finished_at: isoNow(now)})
        stream.end()
        this.forget(stream)
        return
      }
      failure = {reason: 'store_error', message: 'The answer could not be stored; recall it to answer again.'}
    }
    const failed = {...failure, at: isoNow(now)}
    try {
      await this.store.updateNode(node._id, condition, {state: 'failed', failure: failed, answer, model, updated_at: isoNow(now), finished_at: isoNow(now)}, ['owner', 'lease_until'])
    } catch (error) {
      this.log('could not store the failure of ' + node._id + ': ' + (error as Error).message)
    }
    stream.emit('failed', {state: 'failed', reason: failed.reason, message: failed.message, ...(failed.status ? {status: failed.status} : {}), answer_chars: answer.length, recallable: true, at: failed.at})
    stream.end()
    this.forget(stream)
  }

  private failureOf(error: unknown, stream: LiveStream): {reason: FailureReason; message: string; status?: number} {
    if (stream.stopReason === 'stopped') return {reason: 'stopped', message: 'Stopped before the answer was finished; recall it to answer again.'}
    if (stream.stopReason === 'timeout') return {reason: stream.timeoutMessage.startsWith('The server stopped') ? 'restart' : 'timeout', message: stream.timeoutMessage}
    if (stream.stopReason) return {reason: 'stopped', message: 'Stopped.'}
    if (error instanceof BackendError) return {reason: error.reason, message: error.message, ...(error.status ? {status: error.status} : {})}
    if (error instanceof PageNotFound) return {reason: 'backend_error', message: error.message}
    if (isAbortError(error)) return {reason: 'stopped', message: 'Stopped.'}
    return {reason: 'backend_error', message: 'The answer failed: ' + ((error as Error).message ?? String(error))}
  }

  /** Keep a finished stream a while for late subscribers, then let it go. */
  private forget(stream: LiveStream): void {
    const timer = setTimeout(() => {
      if (this.live.get(stream.nodeId) === stream) this.live.delete(stream.nodeId)
    }, this.limits.keepFinishedMs)
    timer.unref()
  }

  /** An ephemeral session whose stream lost its last subscriber before any answer existed is removed. */
  private async abandoned(stream: LiveStream): Promise<void> {
    if (stream.remote || stream.sinks.size > 0) return
    const session = await this.store.getSession(stream.treeId)
    if (!session?.ephemeral) return
    if (stream.splitter.answer !== '') return
    const nodes = await this.store.listTree(stream.treeId)
    if (nodes.some((node) => node._id !== stream.nodeId && node.answer !== '')) return
    if (!stream.ended) {
      stream.stopReason = 'abandoned'
      stream.controller.abort()
      await stream.finished
    }
    await this.store.deleteSession(stream.treeId)
  }

  private async ancestorsOf(node: NodeDoc): Promise<NodeDoc[]> {
    const nodes = new Map((await this.store.listTree(node.tree_id)).map((other) => [other._id, other]))
    return node.ancestors.map((id) => nodes.get(id)).filter((other): other is NodeDoc => other !== undefined)
  }

  /** A stored node's stream, rebuilt: start, its blocks (all final), and how it ended. */
  private replayOf(node: NodeDoc, recallable: boolean): LiveStream {
    const stream = new LiveStream(node._id, node.tree_id, node.attempts, false)
    stream.emit('start', startPayload(node))
    if (node.answer !== '') stream.emit('answer', {delta: node.answer, final: splitAnswer(node.answer), open: null})
    endPayload(stream, node, recallable)
    stream.end()
    return stream
  }

  /** A node another process streams into: follow it through the store. */
  private watch(node: NodeDoc): LiveStream {
    const stream = new LiveStream(node._id, node.tree_id, node.attempts, true)
    this.live.set(node._id, stream)
    stream.emit('start', startPayload(node))
    let text = ''
    let splitter = stream.splitter
    let attempts = node.attempts
    const step = (current: NodeDoc): boolean => {
      if (current.attempts !== attempts || !current.answer.startsWith(text)) {
        attempts = current.attempts
        text = ''
        splitter = new BlockSplitter()
        stream.emit('start', startPayload(current))
      }
      if (current.answer.length > text.length) {
        const delta = current.answer.slice(text.length)
        text = current.answer
        if (current.state !== 'streaming') {
          splitter.push(delta)
          stream.emit('answer', {delta, ...splitter.finish()})
        } else {
          const update = splitter.push(delta)
          stream.emit('answer', {delta, final: update.final, open: update.open})
        }
      } else if (current.state !== 'streaming' && text !== '') {
        stream.emit('answer', {delta: '', ...splitter.finish()})
      }
      if (current.state === 'streaming') return false
      endPayload(stream, current, current.state === 'failed')
      return true
    }
    if (step(node)) {
      stream.end()
      this.forget(stream)
      return stream
    }
    // One read in flight: a slow store skips ticks instead of answering them out of order.
    let polling = false
    const timer = setInterval(() => {
      if (stream.ended) return clearInterval(timer)
      if (polling) return
      polling = true
      this.store
        .getNode(node._id)
        .then((current) => {
          if (!current) {
            clearInterval(timer)
            stream.end()
            this.live.delete(node._id)
          } else if (step(current)) {
            clearInterval(timer)
            stream.end()
            this.forget(stream)
          }
        })
        .catch((error: Error) => this.log('could not read ' + node._id + ' while following it: ' + error.message))
        .finally(() => {
          polling = false
        })
    }, Math.max(100, Math.min(500, this.limits.persistMs)))
    timer.unref()
    return stream
  }

  private checkQuestion(value: unknown): string {
    if (typeof value !== 'string' || value.trim() === '') throw new AskError(400, 'question_required', 'A question is required.')
    if (value.length > this.limits.questionChars) throw new AskError(400, 'question_too_long', 'The question is ' + value.length + ' characters long; the limit is ' + this.limits.questionChars + '.')
    return value.trim()
  }

  private checkTitle(value: unknown): string {
    if (typeof value !== 'string') throw new AskError(400, 'title_required', 'A title (text) is required.')
    if (value.length > this.limits.titleChars) throw new AskError(400, 'title_too_long', 'The title is longer than ' + this.limits.titleChars + ' characters.')
    return value.trim()
  }

  private checkScope(value: unknown): 'page' | 'site' {
    if (value === undefined || value === null || value === 'page') return 'page'
    if (value === 'site') return 'site'
    throw new AskError(400, 'bad_scope', '`scope` is `page` or `site`.')
  }

  private async checkPage(value: unknown): Promise<string> {
    if (typeof value !== 'string' || value.trim() === '') throw new AskError(400, 'page_required', 'The page (its file id, such as `guide/intro`) is required.')
    try {
      return (await this.retriever.page(value.trim())).fileId
    } catch (error) {
      if (error instanceof PageNotFound) throw new AskError(404, 'page_not_found', 'No page `' + value + '` in this site.')
      throw error
    }
  }

  private checkCapacity(): void {
    let running = 0
    for (const stream of this.live.values()) if (!stream.ended && !stream.remote) running++
    if (running >= this.limits.maxStreams) throw new AskError(503, 'busy', 'Too many answers are streaming at once (' + running + '); try again in a moment.')
  }
}

export interface TreeNode extends NodeDoc {
  children: TreeNode[]
}

/** The nested tree of a session from its flat nodes. */
export function nest(rootId: string, nodes: NodeDoc[]): TreeNode[] {
  const byId = new Map<string, TreeNode>(nodes.map((node) => [node._id, {...node, children: []}]))
  const roots: TreeNode[] = []
  for (const node of byId.values()) {
    const parent = byId.get(node.parent_id)
    if (parent) parent.children.push(node)
    else if (node.parent_id === rootId) roots.push(node)
  }
  return roots
}

function startPayload(node: NodeDoc): Record<string, unknown> {
  return {
    node_id: node._id,
    session_id: node.tree_id,
    parent_id: node.parent_id,
    attempt: node.attempts,
    question: node.question,
    page: node.page,
    scope: node.scope,
    model: {backend: node.model.backend, name: node.model.name},
    sources: node.sources
  }
}

function endPayload(stream: LiveStream, node: NodeDoc, recallable: boolean): void {
  if (node.state === 'immutable') {
    stream.emit('done', {state: 'immutable', blocks: splitAnswer(node.answer).length, answer_chars: node.answer.length, citations: node.citations, usage: node.usage ?? {}, model: node.model, finished_at: node.finished_at})
  } else if (node.state === 'failed') {
    const failure = node.failure ?? {reason: 'backend_error' as const, message: 'The answer failed.', at: node.updated_at}
    stream.emit('failed', {state: 'failed', reason: failure.reason, message: failure.message, ...(failure.status ? {status: failure.status} : {}), answer_chars: node.answer.length, recallable, at: failure.at})
  }
}

function parseEventId(value: string | undefined): [number, number] {
  const match = /^(\d+)-(\d+)$/.exec(value ?? '')
  return match ? [Number(match[1]), Number(match[2])] : [0, 0]
}

/** Whether the process that owned a streaming node is gone: dead on this machine, or its lease ran out. */
function ownerGone(node: NodeDoc, now: number): boolean {
  const owner = node.owner
  if (!owner) return true
  if (owner.host === hostname()) {
    if (owner.pid === process.pid) return !liveOwners.has(owner.id)
    if (!processRuns(owner.pid)) return true
  }
  return node.lease_until === undefined || Date.parse(node.lease_until) < now
}


