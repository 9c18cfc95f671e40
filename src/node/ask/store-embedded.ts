import {KeyedQueue} from './keyed-queue.js'
import {randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import {mkdir, open, readdir, readFile, rename, rm, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {isId} from './ids.js'
import type {ConversationStore, NodeCondition, NodeDoc, NodePatch, NodeUnset, SessionDoc} from './types.js'

/**
 * The embedded conversation store, for when no MongoDB is configured:
 * `.tagpress/conversations/trees/<session>/session.json` and one
 * `<node>.json` beside it per node.
 *
 * Crash safety: every file is written aside and renamed over its name
 * (rename is atomic), so a reader sees the old or the new document, never
 * part of one, and a process killed at any point (kill -9) leaves every file
 * whole. Writes that change a node's state (created, finished, failed) are
 * flushed to the disk (`fsync` of the file, then of its folder) before the
 * call returns, so a finished answer survives even a power cut once the
 * engine has reported it finished; the growing answer's intermediate
 * writes are not flushed (losing one costs nothing: the node is failed on
 * restart and can be recalled). A deleted session is renamed into `trash/`
 * first, so a half-finished delete never leaves half a tree visible.
 *
 * Several processes may share the store (a dev server and `tagpress ask`):
 * each node has one writer, the engine that streams into it; conditional
 * updates are serialized within a process, not across processes.
 */
export class EmbeddedStore implements ConversationStore {
  readonly kind = 'embedded' as const
  private readonly trees: string
  private readonly trash: string
  /** Node id → session id, learnt as nodes are seen. */
  private readonly treeOf = new Map<string, string>()
  /** One writer per document within this process. */
  private readonly locks = new KeyedQueue()
  /**
   * Nodes this store wrote last while they stream under an owner: the
   * owner's own updates (the growing answer, every second) start from this
   * copy instead of reading the file back, since that owner is their one writer.
   */
  private readonly streaming = new Map<string, NodeDoc>()

  constructor(readonly dir: string) {
    this.trees = path.join(dir, 'trees')
    this.trash = path.join(dir, 'trash')
  }

  async init(): Promise<void> {
    await mkdir(this.trees, {recursive: true})
    // Deletes interrupted by a crash: finish them.
    await rm(this.trash, {recursive: true, force: true})
  }

  async close(): Promise<void> {
    await this.locks.idle()
  }

  private sessionFile(id: string): string {
    return path.join(this.trees, id, 'session.json')
  }

  private nodeFile(treeId: string, id: string): string {
    return path.join(this.trees, treeId, id + '.json')
  }

  async insertSession(session: SessionDoc): Promise<void> {
    await mkdir(path.join(this.trees, session._id), {recursive: true})
    await writeDocument(this.sessionFile(session._id), session, true)
  }

  async getSession(id: string): Promise<SessionDoc | null> {
    if (!isId(id, 's')) return null
    return readDocument<SessionDoc>(this.sessionFile(id))
  }

  async listSessions(options: {ephemeral?: boolean} = {}): Promise<SessionDoc[]> {
    const sessions: SessionDoc[] = []
    for (const id of await this.treeIds()) {
      const session = await readDocument<SessionDoc>(this.sessionFile(id))
      if (session && (options.ephemeral || !session.ephemeral)) sessions.push(session)
    }
    return sessions.sort((a, b) => (a.updated_at < b.updated_at ? 1 : a.updated_at > b.updated_at ? -1 : 0))
  }

  async updateSession(id: string, patch: Partial<Pick<SessionDoc, 'title' | 'updated_at'>>): Promise<boolean> {
    if (!isId(id, 's')) return false
    return this.locks.run(id, async () => {
      const session = await readDocument<SessionDoc>(this.sessionFile(id))
      if (!session) return false
      await writeDocument(this.sessionFile(id), {...session, ...patch}, false)
      return true
    })
  }

  async deleteSession(id: string): Promise<boolean> {
    if (!isId(id, 's')) return false
    return this.locks.run(id, async () => {
      const folder = path.join(this.trees, id)
      if (!existsSync(this.sessionFile(id))) return false
      await mkdir(this.trash, {recursive: true})
      const aside = path.join(this.trash, id + '.' + randomBytes(4).toString('hex'))
      try {
        await rename(folder, aside)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
        throw error
      }
      for (const [node, tree] of this.treeOf) {
        if (tree !== id) continue
        this.treeOf.delete(node)
        this.streaming.delete(node)
      }
      await rm(aside, {recursive: true, force: true})
      return true
    })
  }

  async insertNode(node: NodeDoc): Promise<void> {
    if (!existsSync(this.sessionFile(node.tree_id))) throw new Error('No session ' + node.tree_id)
    this.treeOf.set(node._id, node.tree_id)
    await writeDocument(this.nodeFile(node.tree_id, node._id), node, true)
    this.remember(node)
  }

  private remember(node: NodeDoc): void {
    if (node.state === 'streaming' && node.owner) this.streaming.set(node._id, node)
    else this.streaming.delete(node._id)
  }

  async getNode(id: string): Promise<NodeDoc | null> {
    if (!isId(id, 'n')) return null
    const known = this.treeOf.get(id)
    if (known) {
      const node = await readDocument<NodeDoc>(this.nodeFile(known, id))
      if (node) return node
    }
    // Written by another process, or not seen yet: look in every tree.
    for (const treeId of await this.treeIds()) {
      const node = await readDocument<NodeDoc>(this.nodeFile(treeId, id))
      if (node) {
        this.treeOf.set(id, treeId)
        return node
      }
    }
    return null
  }

  async listTree(treeId: string): Promise<NodeDoc[]> {
    if (!isId(treeId, 's')) return []
    let names: string[]
    try {
      names = await readdir(path.join(this.trees, treeId))
    } catch {
      return []
    }
    const nodes: NodeDoc[] = []
    for (const name of names) {
      if (!name.startsWith('n_') || !name.endsWith('.json')) continue
      const node = await readDocument<NodeDoc>(path.join(this.trees, treeId, name))
      if (node) {
        nodes.push(node)
        this.treeOf.set(node._id, treeId)
      }
    }
    return nodes.sort((a, b) => a.order - b.order || (a._id < b._id ? -1 : 1))
  }

  async hasChildren(id: string): Promise<boolean> {
    const node = await this.getNode(id)
    if (!node) return false
    return (await this.listTree(node.tree_id)).some((other) => other.parent_id === id)
  }

  async updateNode(id: string, condition: NodeCondition, set: NodePatch, unset: NodeUnset = [], inc: {attempts?: number} = {}): Promise<boolean> {
    assertCondition(condition)
    return this.locks.run(id, async () => {
      const known = this.streaming.get(id)
      const node = known && condition.owner !== undefined && known.owner?.id === condition.owner ? known : await this.getNode(id)
      if (!node || !meets(node, condition)) return false
      const next: NodeDoc = {...node, ...set}
      for (const key of unset) delete next[key]
      if (inc.attempts) next.attempts = node.attempts + inc.attempts
      // State changes are flushed to the disk; a growing answer's writes are not (see the class comment).
      try {
        await writeDocument(this.nodeFile(node.tree_id, id), next, set.state !== undefined && set.state !== 'streaming')
      } catch (error) {
        this.streaming.delete(id)
        throw error
      }
      this.remember(next)
      return true
    })
  }

  async listStreaming(): Promise<NodeDoc[]> {
    return (await this.allNodes()).filter((node) => node.state === 'streaming')
  }

  async listImmutable(): Promise<NodeDoc[]> {
    const nodes: NodeDoc[] = []
    for (const session of await this.listSessions()) nodes.push(...(await this.listTree(session._id)).filter((node) => node.state === 'immutable'))
    return nodes
  }

  private async allNodes(): Promise<NodeDoc[]> {
    const nodes: NodeDoc[] = []
    for (const treeId of await this.treeIds()) nodes.push(...(await this.listTree(treeId)))
    return nodes
  }

  private async treeIds(): Promise<string[]> {
    try {
      return (await readdir(this.trees)).filter((name) => isId(name, 's'))
    } catch {
      return []
    }
  }
}

/** Refuse conditions that would admit an immutable node: no write path can change a finished answer. */
export function assertCondition(condition: NodeCondition): void {
  if (condition.states.length === 0 || (condition.states as string[]).includes('immutable')) throw new Error('A node update must be conditional on a state other than immutable')
}

function meets(node: NodeDoc, condition: NodeCondition): boolean {
  if (node.state === 'immutable') return false
  if (!(condition.states as string[]).includes(node.state)) return false
  return condition.owner === undefined || node.owner?.id === condition.owner
}

async function readDocument<T>(file: string): Promise<T | null> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return null
    throw error
  }
  return JSON.parse(text) as T
}

let counter = 0

/** Write aside, (flush,) rename over: readers and crashes see the old or the new document, never part of one. */
async function writeDocument(file: string, value: unknown, durable: boolean): Promise<void> {
  const aside = path.join(path.dirname(file), '.' + path.basename(file) + '.' + process.pid + '.' + (counter++).toString(36) + '.tmp')
  if (durable) {
    const handle = await open(aside, 'w')
    try {
      await handle.writeFile(JSON.stringify(value))
      await handle.datasync()
    } finally {
      await handle.close()
    }
  } else await writeFile(aside, JSON.stringify(value))
  try {
    await rename(aside, file)
  } catch (error) {
    await rm(aside, {force: true})
    throw error
  }
  if (durable) {
    // The rename itself is durable once the folder is flushed.
    const folder = await open(path.dirname(file), 'r')
    try {
      await folder.datasync()
    } catch {
      // Some file systems cannot flush a folder; the rename is still atomic.
    } finally {
      await folder.close()
    }
  }
}
