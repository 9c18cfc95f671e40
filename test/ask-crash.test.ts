import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {call, openStream} from './fixtures/ask/client.js'
import {pages, testMongo, uniqueDb, type StoreKind} from './fixtures/ask/setup.js'
import {startStandin, type Standin} from './helpers/ollama-standin.js'
import {Project} from './helpers/project.js'

// Kill the server process (SIGKILL) while it streams an answer, start it
// again: the node it left streaming is failed and recallable, and the answers
// it had finished are intact. On both stores. The server is the compiled
// engine (dist/, built by `npm test`'s compile step).
const mongo = await testMongo()
const kinds: StoreKind[] = mongo ? ['embedded', 'mongo'] : ['embedded']
afterAll(async () => {
  await mongo?.stop()
})
const script = path.join(import.meta.dirname, 'fixtures', 'ask', 'server.mjs')
const compiled = existsSync(path.join(import.meta.dirname, '..', 'dist', 'src', 'node', 'ask', 'http.js'))
if (process.env.CI && !compiled) throw new Error('dist/ is not compiled')

function startServer(dir: string, env: Record<string, string>): Promise<{url: string; child: ChildProcess}> {
  const child = spawn(process.execPath, [script], {cwd: dir, env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']})
  let output = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start: ' + output)), 60_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const match = /ready (http:\/\/\S+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve({url: match[1] as string, child})
      }
    })
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.on('exit', (code) => reject(new Error('server exited with ' + code + ': ' + output)))
  })
}

describe.runIf(compiled).each(kinds)('a server killed mid-stream (%s store)', (kind) => {
  let standin: Standin
  let project: Project

  beforeAll(async () => {
    standin = await startStandin()
    project = new Project(pages)
    if (kind === 'mongo') writeFileSync(path.join(project.dir, 'tagpress.config.json'), JSON.stringify({mongo: {db: uniqueDb()}}))
  })

  afterAll(async () => {
    await standin?.close()
    project?.dispose()
  })

  it('leaves the node failed and recallable after a restart, and finished answers intact', async () => {
    const env: Record<string, string> = {OLLAMA_HOST: standin.url, TAGPRESS_MODEL: 'qwen2.5:0.5b', MONGODB_URI: kind === 'mongo' ? (mongo as {uri: string}).uri : ''}
    const first = await startServer(project.dir, env)
    let second: {url: string; child: ChildProcess} | undefined
    try {
      const finished = await call(first.url, 'POST', '/api/ask', {page: 'guide/intro', question: 'Finished before the crash?'})
      expect(finished.status).toBe(201)
      const done = await openStream(first.url + '/api/nodes/' + finished.body.node_id + '/stream')
      await done.ended
      const before = (await call(first.url, 'GET', '/api/nodes/' + finished.body.node_id)).body.node as {state: string; answer: string; finished_at: string}
      expect(before.state).toBe('immutable')

      standin.defaults = {tokenDelayMs: 40}
      const victim = await call(first.url, 'POST', '/api/ask', {session_id: finished.body.session_id, page: 'guide/intro', question: 'Streaming when killed?'})
      const stream = await openStream(first.url + '/api/nodes/' + victim.body.node_id + '/stream')
      await stream.waitFor((event) => event.event === 'answer' && (event.data.seq as number) >= 4)
      // Wait until part of the answer is stored, then kill -9.
      for (let index = 0; index < 200; index++) {
        const node = (await call(first.url, 'GET', '/api/nodes/' + victim.body.node_id)).body.node as {answer: string}
        if (node.answer !== '') break
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      first.child.kill('SIGKILL')
      await new Promise((resolve) => first.child.once('exit', resolve))
      await stream.ended
      expect(stream.events.some((event) => event.event === 'done' || event.event === 'failed')).toBe(false)

      standin.defaults = {}
      second = await startServer(project.dir, env)
      const after = (await call(second.url, 'GET', '/api/nodes/' + victim.body.node_id)).body.node as {state: string; failure: {reason: string}; answer: string}
      expect(after.state).toBe('failed')
      expect(after.failure.reason).toBe('restart')
      expect(after.answer.length).toBeGreaterThan(0)
      const intact = (await call(second.url, 'GET', '/api/nodes/' + finished.body.node_id)).body.node as {state: string; answer: string; finished_at: string}
      expect(intact).toEqual(before)

      const recalled = await call(second.url, 'POST', '/api/nodes/' + victim.body.node_id + '/recall')
      expect(recalled.status).toBe(200)
      const again = await openStream(second.url + '/api/nodes/' + victim.body.node_id + '/stream')
      await again.ended
      expect(again.events.at(-1)!.event).toBe('done')
      const final = (await call(second.url, 'GET', '/api/nodes/' + victim.body.node_id)).body.node as {state: string; attempts: number}
      expect(final.state).toBe('immutable')
      expect(final.attempts).toBe(2)
    } finally {
      if (first.child.exitCode === null) first.child.kill('SIGKILL')
      if (second && second.child.exitCode === null) {
        second.child.kill('SIGTERM')
        await new Promise((resolve) => second!.child.once('exit', resolve))
      }
    }
  })
})
