import {parseArgs} from 'node:util'
import {nest, type TreeNode} from '../../node/ask/engine.js'
import {openStore} from '../../node/ask/store.js'
import type {ConversationStore, NodeDoc, SessionDoc} from '../../node/ask/types.js'
import {loadConfig} from '../../node/config/load.js'
import {UserError} from '../../node/errors.js'

export const sessionsUsage = `Usage: tagpress sessions [list] [--all] [--json]
       tagpress sessions show SESSION_ID [--json]
       tagpress sessions rename SESSION_ID "title"
       tagpress sessions delete SESSION_ID

The ask panel's conversations (MongoDB when mongo.uri is set, else .tagpress/):
list them newest first, print one as a tree, rename or delete one.

  --all          include ephemeral sessions
  --json         JSON instead of text
  --config FILE  config file
`

/** `tagpress sessions …`: list, show (as a tree), rename, delete conversations. */
export async function runSessions(args: string[]): Promise<number> {
  const {values, positionals} = parseArgs({
    args,
    options: {all: {type: 'boolean'}, json: {type: 'boolean'}, config: {type: 'string'}, help: {type: 'boolean', short: 'h'}},
    allowPositionals: true,
    strict: true
  })
  if (values.help) {
    process.stdout.write(sessionsUsage)
    return 0
  }
  const [action = 'list', id, ...rest] = positionals
  const config = await loadConfig(process.cwd(), values.config ? {config: values.config} : {})
  const store = await openStore(config)
  await store.init()
  try {
    switch (action) {
      case 'list': {
        const sessions = await store.listSessions({ephemeral: values.all === true})
        if (values.json) {
          process.stdout.write(JSON.stringify(sessions, null, 2) + '\n')
          return 0
        }
        if (sessions.length === 0) {
          process.stdout.write('No sessions yet: ask with `tagpress ask "question" --page FILE_ID` or in the ask panel.\n')
          return 0
        }
        for (const session of sessions) {
          const nodes = await store.listTree(session._id)
          process.stdout.write(session._id + '  ' + session.updated_at.slice(0, 16).replace('T', ' ') + '  ' + String(nodes.length).padStart(3) + ' node' + (nodes.length === 1 ? ' ' : 's') + '  ' + (session.title || '(untitled)') + (session.ephemeral ? '  [ephemeral]' : '') + '\n')
        }
        return 0
      }
      case 'show':
      case 'tree':
        return await show(store, need(id, action), values.json === true)
      case 'rename': {
        const title = rest.join(' ').trim()
        if (!title) throw new UserError('The new title is missing: tagpress sessions rename SESSION_ID "title"')
        if (!(await store.updateSession(need(id, action), {title, updated_at: new Date().toISOString()}))) throw new UserError('No session ' + id)
        return 0
      }
      case 'delete':
        if (!(await store.deleteSession(need(id, action)))) throw new UserError('No session ' + id)
        process.stderr.write('tagpress: deleted ' + id + '\n')
        return 0
      default:
        throw new UserError('Unknown sessions action `' + action + '`\n\n' + sessionsUsage)
    }
  } finally {
    await store.close()
  }
}

/** `tagpress tree SESSION_ID` for a conversation: the owner's tree command may route session ids (`s_…`) here. */
export async function runConversationTree(args: string[]): Promise<number> {
  return runSessions(['show', ...args])
}

function need(id: string | undefined, action: string): string {
  if (!id) throw new UserError('Which session? tagpress sessions ' + action + ' SESSION_ID')
  return id
}

async function show(store: ConversationStore, id: string, json: boolean): Promise<number> {
  const session = await store.getSession(id)
  if (!session) throw new UserError('No session ' + id)
  const nodes = await store.listTree(id)
  const tree = nest(id, nodes)
  if (json) {
    process.stdout.write(JSON.stringify({session, tree}, null, 2) + '\n')
    return 0
  }
  process.stdout.write(renderTree(session, tree))
  return 0
}

/** A session as `anytree`'s RenderTree draws it: ├── └── │. */
export function renderTree(session: SessionDoc, tree: TreeNode[]): string {
  const lines = [session._id + '  ' + (session.title || '(untitled)') + (session.page ? '  (' + session.page + ')' : '')]
  const walk = (nodes: TreeNode[], prefix: string): void => {
    nodes.forEach((node, index) => {
      const last = index === nodes.length - 1
      lines.push(prefix + (last ? '└── ' : '├── ') + label(node))
      walk(node.children, prefix + (last ? '    ' : '│   '))
    })
  }
  walk(tree, '')
  return lines.join('\n') + '\n'
}

function label(node: NodeDoc): string {
  const state = node.state === 'failed' ? 'failed: ' + (node.failure?.reason ?? '?') : node.state
  return node._id + ' [' + state + (node.attempts > 1 ? ', attempt ' + node.attempts : '') + '] ' + node.title
}
