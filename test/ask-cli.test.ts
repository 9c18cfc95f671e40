import {spawn} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {readDeck} from '../src/node/anki/reader.js'
import {pages} from './fixtures/ask/setup.js'
import {startStandin, type Standin} from './helpers/ollama-standin.js'
import {Project} from './helpers/project.js'

// `tagpress ask`, `tagpress sessions` and `tagpress export conversations`, run
// as a user would (the compiled commands, in a project, against the stand-in).
const dist = path.join(import.meta.dirname, '..', 'dist', 'src', 'cli', 'commands')
const compiled = existsSync(path.join(dist, 'ask.js'))
if (process.env.CI && !compiled) throw new Error('dist/ is not compiled')

function command(dir: string, file: string, name: string, args: string[], env: Record<string, string>): Promise<{status: number; stdout: string; stderr: string}> {
  const script = 'const m = await import(' + JSON.stringify(path.join(dist, file)) + '); process.exitCode = await m.' + name + '(process.argv.slice(1))'
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, '--', ...args], {cwd: dir, env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise((resolve) => child.on('close', (status) => resolve({status: status ?? -1, stdout, stderr})))
}

describe.runIf(compiled)('CLI: ask, sessions, export conversations', () => {
  let standin: Standin
  let project: Project
  let env: Record<string, string>

  beforeAll(async () => {
    standin = await startStandin()
    // Cites whatever label the Installing section got, as [§2] is shown below.
    standin.reply = (messages) => {
      const label = /<section label="(\d+)"[^>]*title="Installing"/.exec(messages.at(-1)?.content ?? '')?.[1] ?? '9'
      return 'Run `npm install tagpress` [§' + label + '].\n\nThen build.'
    }
    project = new Project(pages)
    env = {OLLAMA_HOST: standin.url, TAGPRESS_MODEL: 'llama3.2', MONGODB_URI: ''}
  })

  afterAll(async () => {
    await standin?.close()
    project?.dispose()
  })

  it('streams an answer to the terminal, keeps it, replies, lists and shows sessions, exports', async () => {
    const asked = await command(project.dir, 'ask.js', 'runAsk', ['How do I install it?', '--page', 'guide/intro'], env)
    expect(asked.status, asked.stderr).toBe(0)
    expect(asked.stdout).toMatch(/^Run `npm install tagpress` \[§\d\]\.\n\nThen build\.\n/)
    expect(asked.stdout).toMatch(/Sources:\n {2}\[§\d\] Intro › Installing {2}\/guide\/intro\.html#installing/)
    const ids = /node (n_\w+), session (s_\w+)/.exec(asked.stderr)!
    const [, nodeId, sessionId] = ids as unknown as [string, string, string]

    const replied = await command(project.dir, 'ask.js', 'runAsk', ['And then?', '--reply', nodeId, '--json'], env)
    expect(replied.status, replied.stderr).toBe(0)
    const reply = JSON.parse(replied.stdout) as {state: string; parent_id: string; tree_id: string}
    expect(reply).toMatchObject({state: 'immutable', parent_id: nodeId, tree_id: sessionId})

    standin.next({cutAfter: 2})
    const failed = await command(project.dir, 'ask.js', 'runAsk', ['Will this fail?', '--page', 'guide/intro', '--session', sessionId], env)
    expect(failed.status).toBe(1)
    expect(failed.stderr).toMatch(/stopped before its end/)

    const missing = await command(project.dir, 'ask.js', 'runAsk', ['Q?', '--page', 'guide/intro'], {...env, TAGPRESS_MODEL: 'nope:1b'})
    expect(missing.status).toBe(1)
    expect(missing.stderr).toContain('`ollama pull nope:1b`')

    const list = await command(project.dir, 'sessions.js', 'runSessions', [], env)
    expect(list.status).toBe(0)
    expect(list.stdout).toContain(sessionId)
    expect(list.stdout).toContain('How do I install it?')
    const shown = await command(project.dir, 'sessions.js', 'runSessions', ['show', sessionId], env)
    expect(shown.stdout).toMatch(new RegExp('├── ' + nodeId + ' \\[immutable\\] How do I install it\\?\\n│   └── n_\\w+ \\[immutable\\] And then\\?\\n└── n_\\w+ \\[failed: stream_cut\\] Will this fail\\?'))

    const exported = await command(project.dir, 'export-conversations.js', 'runExportConversations', [], env)
    expect(exported.status, exported.stderr).toBe(0)
    const dir = path.join(project.dir, 'out', 'conversations')
    const records = readFileSync(path.join(dir, 'qa.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(records).toHaveLength(2)
    const first = records.find((record) => record.id === nodeId)!
    expect(first.answer).toMatch(/^Run `npm install tagpress` \[§\d\]\.\n\nThen build\.$/)
    expect(first).toMatchObject({question: 'How do I install it?', model: {backend: 'ollama', name: 'llama3.2', digest: standin.models[1]!.digest}})
    expect((first.citations as Array<{href: string}>)[0]!.href).toBe('/guide/intro.html#installing')
    const litgpt = ['train', 'val'].flatMap((side) => readFileSync(path.join(dir, 'litgpt', side + '.jsonl'), 'utf8').trim().split('\n').filter(Boolean)).map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(litgpt).toHaveLength(2)
    const instruction = litgpt.find((record) => record.id === nodeId)!
    expect(instruction).toMatchObject({instruction: 'How do I install it?', output: 'Run `npm install tagpress` [Installing].\n\nThen build.', provenance: {model: {name: 'llama3.2', digest: standin.models[1]!.digest}}})
    const chats = ['train', 'val'].flatMap((side) => readFileSync(path.join(dir, 'litgpt', 'chat', side + '.jsonl'), 'utf8').trim().split('\n').filter(Boolean)).map((line) => JSON.parse(line) as {id: string; messages: Array<{role: string}>})
    expect(chats.find((chat) => chat.id === reply_id(reply))?.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user', 'assistant'])
    const notes = []
    for await (const note of readDeck(path.join(dir, 'anki', 'conversations.apkg'), {text: true})) notes.push(note)
    expect(notes).toHaveLength(2)
    const card = notes.find((note) => note.question === 'How do I install it?')!
    expect(card.answer_intro).toBe('By llama3.2:')
    expect(card.parent_ref).toBe(sessionId)
    expect(notes.find((note) => note.question === 'And then?')!.parent_ref).toBe(nodeId)
    expect(card.deck).toMatch(/::Conversations::How do I install it\?$/)

    const deleted = await command(project.dir, 'sessions.js', 'runSessions', ['delete', sessionId], env)
    expect(deleted.status).toBe(0)
    expect((await command(project.dir, 'sessions.js', 'runSessions', ['show', sessionId], env)).status).not.toBe(0)
  })
})

function reply_id(reply: {tree_id: string} & Record<string, unknown>): string {
  return reply._id as string
}
