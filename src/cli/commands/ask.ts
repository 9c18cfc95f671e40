import {parseArgs} from 'node:util'
import {createBackend} from '../../node/ask/backend.js'
import {AskEngine, AskError, type StreamSink} from '../../node/ask/engine.js'
import {openStore} from '../../node/ask/store.js'
import type {Source} from '../../node/ask/types.js'
import {loadConfig} from '../../node/config/load.js'
import {UserError} from '../../node/errors.js'

export const askUsage = `Usage: tagpress ask "question" --page FILE_ID [options]

Asks the configured model (llm.*) about one page and streams the answer to
the terminal. The question and its answer are kept as a node of a session,
like the ask panel's (in MongoDB when mongo.uri is set, else in .tagpress/).

  --page FILE_ID     the page to ask about, e.g. guide/intro (required)
  --session ID       continue a session (the question becomes a new node in it)
  --reply NODE_ID    reply to a finished or failed answer (its question and answer are the history)
  --site             search the whole site, not just the page
  --ephemeral        keep no history (the session is removed when abandoned)
  --json             print the finished node as JSON instead of streaming text
  --config FILE      config file
  -h, --help         this help

Exit status: 0 when the answer is complete, 1 when it failed (the reason is printed).
`

/** `tagpress ask "question" --page guide/intro [--session id]`: stream an answer to the terminal. */
export async function runAsk(args: string[]): Promise<number> {
  const {values, positionals} = parseArgs({
    args,
    options: {
      page: {type: 'string'},
      session: {type: 'string'},
      reply: {type: 'string'},
      site: {type: 'boolean'},
      ephemeral: {type: 'boolean'},
      json: {type: 'boolean'},
      config: {type: 'string'},
      help: {type: 'boolean', short: 'h'}
    },
    allowPositionals: true,
    strict: true
  })
  if (values.help) {
    process.stdout.write(askUsage)
    return 0
  }
  const question = positionals.join(' ').trim()
  if (question === '') throw new UserError('What is the question? ' + askUsage.split('\n')[0])
  if (!values.page && !values.reply) throw new UserError('Which page? Pass --page FILE_ID (for example --page guide/intro)')
  const config = await loadConfig(process.cwd(), values.config ? {config: values.config} : {})
  const engine = new AskEngine(config, {store: await openStore(config), backend: await createBackend(config), drafts: true, log: (message) => process.stderr.write('tagpress: ' + message + '\n')})
  let nodeId: string | undefined
  const interrupt = (): void => {
    if (nodeId) void engine.stop(nodeId).catch(() => undefined)
  }
  process.once('SIGINT', interrupt)
  try {
    const node = await (async () => {
      try {
        if (values.reply) return await engine.reply(values.reply, {question, ...(values.page ? {page: values.page} : {}), ...(values.site ? {scope: 'site'} : {})})
        return await engine.ask({question, page: values.page, ...(values.session ? {session_id: values.session} : {}), ...(values.site ? {scope: 'site'} : {}), ...(values.ephemeral ? {ephemeral: true} : {})})
      } catch (error) {
        if (error instanceof AskError) throw new UserError(error.message)
        throw error
      }
    })()
    nodeId = node._id
    const tty = process.stdout.isTTY === true
    let outcome: {ok: boolean; message?: string; citations: Source[]} = {ok: false, citations: []}
    let wroteText = false
    await new Promise<void>((resolve) => {
      const sink: StreamSink = {
        event: (name, data) => {
          if (name === 'answer' && !values.json) {
            const delta = data.delta as string
            if (delta) {
              process.stdout.write(delta)
              wroteText = true
            }
          } else if (name === 'done') outcome = {ok: true, citations: data.citations as Source[]}
          else if (name === 'failed') outcome = {ok: false, message: data.message as string, citations: []}
        },
        end: resolve
      }
      void engine.subscribe(node._id, sink).then((unsubscribe) => {
        if (unsubscribe === false) resolve()
      }, () => resolve())
    })
    const stored = await engine.getNode(node._id)
    if (values.json) {
      const {owner: _owner, lease_until: _lease, ...shown} = stored
      process.stdout.write(JSON.stringify(shown, null, 2) + '\n')
    } else {
      if (wroteText) process.stdout.write('\n')
      if (outcome.citations.length > 0) {
        const dim = (text: string) => (tty ? '\x1b[2m' + text + '\x1b[22m' : text)
        process.stdout.write(dim('\nSources:\n' + outcome.citations.map((source) => '  [§' + source.label + '] ' + source.path + '  ' + source.href).join('\n')) + '\n')
      }
      process.stderr.write('tagpress: ' + (outcome.ok ? 'answered' : 'failed') + ' by ' + stored.model.name + ' (node ' + stored._id + ', session ' + stored.tree_id + ')\n')
    }
    if (!outcome.ok) {
      process.stderr.write('tagpress: ' + (stored.failure?.message ?? outcome.message ?? 'the answer failed') + '\n')
      return 1
    }
    return 0
  } finally {
    process.removeListener('SIGINT', interrupt)
    await engine.close()
  }
}
