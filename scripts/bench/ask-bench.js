// Issue 7's benchmark: 50 concurrent asks, each a 200-token stream from the
// stand-in Ollama, through the ask API (a separate server process, as in
// `tagpress serve`), on both stores. Measures the server's overhead per
// token: the time from the stand-in writing a token to the SSE event carrying
// it reaching a subscriber (p50/p99), the server's CPU per token and its RSS,
// and checks that no event is lost or reordered. Target: p99 under 20 ms.
//
//   node scripts/bench/ask-bench.js          (prints the Markdown section)
//   import {benchAsk} from './ask-bench.js'  (returns it)
//
// The MongoDB store runs against TAGPRESS_BENCH_MONGODB_URI or
// TAGPRESS_TEST_MONGODB_URI when set, else the FerretDB test server
// (scripts/setup/ferretdb.sh builds it once), else it is skipped with a note.
import {fork, spawn, spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {request as httpRequest, createServer} from 'node:http'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {machine, repo, stealMeter} from './lib.js'

const self = fileURLToPath(import.meta.url)
const now = () => performance.timeOrigin + performance.now()

const page = [
  '# [/T]Bench page[T/]',
  '',
  'A page to ask about: installing, building and serving tagpress.',
  '',
  '## [/T]Installing[T/]',
  '',
  'Run `npm install tagpress`, then `npx tagpress build`.',
  '',
  '## [/T]Serving[T/]',
  '',
  'Run `npx tagpress serve` to serve `out/site/` with the ask panel.',
  ''
].join('\n')

/** The server process: the ask API over the project in the working directory, reporting its CPU and memory on request. */
async function runServer() {
  const {createAskApi} = await import(pathToFileURL(path.join(repo, 'dist', 'src', 'node', 'ask', 'http.js')).href)
  const {loadConfig} = await import(pathToFileURL(path.join(repo, 'dist', 'src', 'node', 'config', 'load.js')).href)
  const config = await loadConfig(process.cwd())
  const api = createAskApi(config, {check: false, log: () => undefined, rateLimit: {max: 100000, windowMs: 60000}, limits: {maxStreams: 256}})
  await api.ready
  const server = createServer((request, response) => {
    Promise.resolve(api.handler(request, response)).then((handled) => {
      if (!handled) {
        response.writeHead(404)
        response.end()
      }
    })
  })
  server.listen(0, '127.0.0.1', () => process.send({ready: 'http://127.0.0.1:' + server.address().port}))
  process.on('message', (message) => {
    if (message === 'stats') process.send({stats: {cpu: process.cpuUsage(), rss: process.memoryUsage().rss, maxRssKB: process.resourceUsage().maxRSS}})
    if (message === 'stop') {
      server.closeAllConnections()
      server.close()
      void api.close().then(() => process.exit(0))
    }
  })
}

/** The stand-in Ollama (test/helpers/ollama-standin.ts), made runnable JavaScript by Vite's TypeScript transform. */
async function loadStandin() {
  const {transformWithOxc} = await import('vite')
  const file = path.join(repo, 'test', 'helpers', 'ollama-standin.ts')
  const {code} = await transformWithOxc(readFileSync(file, 'utf8'), file, {lang: 'ts'})
  const dir = mkdtempSync(path.join(tmpdir(), 'tagpress-ask-bench-'))
  const out = path.join(dir, 'ollama-standin.mjs')
  writeFileSync(out, code)
  try {
    return await import(pathToFileURL(out).href)
  } finally {
    // Loaded: the file is no longer needed.
    rmSync(dir, {recursive: true, force: true})
  }
}

function post(url, body) {
  return fetch(url, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(body)}).then((response) => response.json())
}

/** Subscribe to a node's SSE stream; every event stamped on arrival (after parsing). */
function subscribe(url) {
  return new Promise((resolve, reject) => {
    const events = []
    const request = httpRequest(url, {headers: {accept: 'text/event-stream'}}, (response) => {
      let buffer = ''
      response.setEncoding('utf8')
      const ended = new Promise((done) => response.on('end', done))
      response.on('data', (chunk) => {
        buffer += chunk
        let index
        while ((index = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, index)
          buffer = buffer.slice(index + 2)
          const name = /^event: (.*)$/m.exec(block)?.[1]
          const data = /^data: (.*)$/m.exec(block)?.[1]
          if (name && data) events.push({name, data: JSON.parse(data), at: now()})
        }
      })
      resolve({events, ended, openedAt: now()})
    })
    request.on('error', reject)
    request.end()
  })
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
}

async function mongoTarget() {
  const uri = process.env.TAGPRESS_BENCH_MONGODB_URI ?? process.env.TAGPRESS_TEST_MONGODB_URI
  if (uri) return {uri, label: 'MongoDB at ' + uri.replace(/\/\/[^@/]*@/, '//'), stop: async () => undefined}
  // The FerretDB test server, built once by scripts/setup/ferretdb.sh (it prints the binary's path).
  const setup = spawnSync('bash', [path.join(repo, 'scripts', 'setup', 'ferretdb.sh')], {encoding: 'utf8', timeout: 15 * 60_000})
  const binary = setup.stdout.trim().split('\n').pop()
  if (setup.status !== 0 || !binary || !existsSync(binary)) return undefined
  const child = spawn(binary, ['-listen', '127.0.0.1:0', '-log', 'error'], {stdio: ['pipe', 'pipe', 'inherit']})
  const found = await new Promise((resolve, reject) => {
    let output = ''
    child.stdout.on('data', (chunk) => {
      output += chunk
      const match = /mongodb:\/\/\S+/.exec(output)
      if (match) resolve(match[0])
    })
    child.on('exit', (code) => reject(new Error('ferretdb exited with ' + code)))
  })
  return {uri: found, label: 'FerretDB v1 (SQLite)', stop: async () => void child.kill('SIGTERM')}
}

/** One run: 50 asks at once on one store. */
async function runOnce(Standin, store, options) {
  const dir = mkdtempSync(path.join(tmpdir(), 'tagpress-ask-bench-'))
  mkdirSync(path.join(dir, 'content'), {recursive: true})
  writeFileSync(path.join(dir, 'content', 'bench.md'), page)
  if (store.uri) writeFileSync(path.join(dir, 'tagpress.config.json'), JSON.stringify({mongo: {db: 'tagpress_ask_bench_' + randomBytes(4).toString('hex')}}))
  const standin = await Standin.startStandin()
  const reply = Standin.replyOfTokens(options.tokens)
  const tokens = Standin.tokensOf(reply)
  standin.reply = () => reply
  const written = new Map()
  const questions = new WeakMap()
  standin.onToken = (request, index) => {
    const at = now()
    let question = questions.get(request)
    if (question === undefined) {
      question = /Question: (bench-\d+)/.exec(request.body?.messages?.at(-1)?.content ?? '')?.[1] ?? null
      questions.set(request, question)
    }
    if (!question) return
    let times = written.get(question)
    if (!times) written.set(question, (times = []))
    times[index] = at
  }
  const child = fork(self, ['--ask-server'], {cwd: dir, execArgv: process.env.TAGPRESS_BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.TAGPRESS_BENCH_PROFILE] : [], env: {...process.env, OLLAMA_HOST: standin.url, TAGPRESS_MODEL: 'qwen2.5:0.5b', MONGODB_URI: store.uri ?? ''}, stdio: ['ignore', 'ignore', 'inherit', 'ipc']})
  const message = (key) => new Promise((resolve) => {
    const listener = (value) => {
      if (value && value[key] !== undefined) {
        child.off('message', listener)
        resolve(value[key])
      }
    }
    child.on('message', listener)
  })
  const url = await message('ready')
  try {
    // Warm-up: compile the page, open the store, JIT.
    for (let index = 0; index < 3; index++) {
      const warm = await post(url + '/api/ask', {page: 'bench', question: 'warm-up ' + index + '?'})
      await (await subscribe(url + '/api/nodes/' + warm.node_id + '/stream')).ended
    }
    // Subscribers connect before the first token (the stand-in holds its headers briefly, as a model load would).
    standin.defaults = {tokenDelayMs: options.tokenDelayMs, headerDelayMs: 400}
    child.send('stats')
    const before = await message('stats')
    const started = now()
    const streams = await Promise.all(
      Array.from({length: options.asks}, async (_, index) => {
        const created = await post(url + '/api/ask', {page: 'bench', question: 'bench-' + index})
        if (!created.node_id) throw new Error('ask failed: ' + JSON.stringify(created))
        const stream = await subscribe(url + '/api/nodes/' + created.node_id + '/stream')
        await stream.ended
        return {question: 'bench-' + index, ...stream}
      })
    )
    const elapsed = now() - started
    child.send('stats')
    const after = await message('stats')

    const latencies = []
    let lost = 0
    let reordered = 0
    let replayed = 0
    let blocksWrong = 0
    for (const stream of streams) {
      const answers = stream.events.filter((event) => event.name === 'answer' && event.data.delta !== '')
      const times = written.get(stream.question) ?? []
      if (answers.length !== tokens.length) lost += Math.abs(tokens.length - answers.length)
      const seqs = stream.events.map((event) => event.data.seq)
      if (seqs.some((seq, index) => seq !== index + 1)) reordered++
      answers.forEach((event, index) => {
        if (event.data.delta !== tokens[index]) reordered++
        const at = times[index]
        if (at === undefined) return
        if (at < stream.openedAt) replayed++
        else latencies.push(event.at - at)
      })
      const finals = []
      for (const event of stream.events) if (event.name === 'answer') for (const block of event.data.final) finals[block.i] = block.md
      if (finals.join('\n\n') !== reply || stream.events.at(-1)?.name !== 'done') blocksWrong++
    }
    latencies.sort((a, b) => a - b)
    const cpuMs = (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1000
    const total = options.asks * tokens.length
    return {
      store: store.label,
      asks: options.asks,
      tokens: tokens.length,
      events: latencies.length,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) ?? NaN,
      elapsed,
      cpuMs,
      cpuPerToken: (cpuMs * 1000) / total,
      rssMB: after.rss / 2 ** 20,
      maxRssMB: after.maxRssKB / 1024,
      lost,
      reordered,
      replayed,
      blocksWrong
    }
  } finally {
    child.send('stop')
    await new Promise((resolve) => child.once('exit', resolve))
    await standin.close()
    rmSync(dir, {recursive: true, force: true})
  }
}

/**
 * The benchmark as a Markdown section: per store, the added latency per
 * token (p50/p99/max), the server's CPU per token and RSS, and the event
 * checks.
 */
export async function benchAsk(options = {}) {
  const asks = options.asks ?? 50
  const tokens = options.tokens ?? 200
  // Two paces: 50 tokens/s per stream (a fast local model), and 100 tokens/s (a stress: 5,000 tokens/s in all).
  const paces = options.tokenDelayMs ? [options.tokenDelayMs] : [20, 10]
  if (!existsSync(path.join(repo, 'dist', 'src', 'node', 'ask', 'http.js'))) throw new Error('Compile first: npm run compile')
  const Standin = await loadStandin()
  const results = []
  const notes = []
  const mongo = await mongoTarget()
  try {
    for (const tokenDelayMs of paces) {
      const settings = {asks, tokens, tokenDelayMs}
      for (const store of [{label: 'embedded (.tagpress/)'}, ...(mongo ? [{label: mongo.label, uri: mongo.uri}] : [])]) {
        const meter = stealMeter()
        const result = await runOnce(Standin, store, settings)
        results.push({pace: tokenDelayMs, ...result, steal: meter.stolen()})
      }
    }
  } finally {
    await mongo?.stop()
  }
  if (!mongo) notes.push('MongoDB store: skipped (no Go to build the FerretDB test server; set TAGPRESS_BENCH_MONGODB_URI).')
  const lines = [
    `${asks} concurrent asks, each a ${tokens}-token stream from the stand-in Ollama, through the ask API in its own process (the stand-in and the ${asks} SSE subscribers share a second process). Added latency: from the stand-in writing a token to the SSE event with it reaching a subscriber (loopback, the server's parsing, block splitting, fan-out and SSE framing). CPU and RSS are the server process's; with MongoDB, the database server runs on the same machine.`,
    '',
    '| store | pace | events | p50 | p99 | max | wall | server CPU | CPU per token | RSS (peak) | lost / reordered | blocks | host steal |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | ---: |'
  ]
  for (const result of results) {
    lines.push(
      `| ${result.store} | ${Math.round(1000 / result.pace)} tokens/s × ${result.asks} | ${result.events} | ${result.p50.toFixed(2)} ms | ${result.p99.toFixed(2)} ms | ${result.max.toFixed(1)} ms | ${(result.elapsed / 1000).toFixed(2)} s | ${result.cpuMs.toFixed(0)} ms | ${result.cpuPerToken.toFixed(0)} µs | ${result.rssMB.toFixed(0)} MB (${result.maxRssMB.toFixed(0)} MB) | ${result.lost} / ${result.reordered} | ${result.blocksWrong === 0 ? 'all exact' : result.blocksWrong + ' wrong'} | ${result.steal === undefined ? '—' : (result.steal * 100).toFixed(1) + '%'} |`
    )
  }
  const met = results.filter((result) => result.p99 < 20).length
  lines.push('', `Target p99 under 20 ms: met in ${met} of ${results.length} runs. ${results.every((result) => result.lost === 0 && result.reordered === 0 && result.blocksWrong === 0) ? 'No event lost or reordered; every stream\'s final blocks equal the answer.' : 'EVENTS LOST OR REORDERED.'}`)
  for (const result of results) if (result.replayed > 0) lines.push(`(${result.store}: ${result.replayed} tokens arrived before their subscriber connected and were replayed; not counted.)`)
  for (const note of notes) lines.push('', note)
  return lines.join('\n')
}

if (process.argv[2] === '--ask-server') await runServer()
else if (process.argv[1] === self) {
  console.log(`Machine: ${machine()}\n`)
  console.log('## Ask engine\n')
  console.log(await benchAsk())
}
