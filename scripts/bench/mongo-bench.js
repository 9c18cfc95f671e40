// Issue 5's benchmark: syncing the document trees of a 10,000-file site to a
// MongoDB-wire server — the embedded FerretDB v1 (SQLite) test server, NOT a
// real MongoDB — first into an empty database, then unchanged, then after
// one edited answer. Returns a Markdown section for `npm run bench`.
//   node scripts/bench/mongo-bench.js [--files 10000]
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {createInterface} from 'node:readline'
import {parseArgs} from 'node:util'
import {writeCorpus} from './corpus.js'
import {repo, seconds} from './lib.js'

const dist = (module) => import(path.join(repo, 'dist', 'src', 'node', module))

/** Build the FerretDB test server once (cached) and start it on a free loopback port with its data in `dir`. */
async function startFerretDB(dir) {
  const setup = spawnSync('bash', [path.join(repo, 'scripts', 'setup', 'ferretdb.sh')], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit']})
  if (setup.status !== 0) throw new Error('scripts/setup/ferretdb.sh failed (exit ' + setup.status + '): the benchmark needs Go >= 1.24 to build the FerretDB test server')
  const binary = setup.stdout.trim().split('\n').pop()
  const child = spawn(binary, ['-listen', '127.0.0.1:0', '-dir', dir, '-log', 'error'], {stdio: ['pipe', 'pipe', 'inherit']})
  const uri = await new Promise((resolve, reject) => {
    createInterface({input: child.stdout}).once('line', (line) => resolve(line.trim()))
    child.once('exit', (code) => reject(new Error('FerretDB exited with ' + code)))
  })
  return {uri, stop: () => new Promise((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', resolve), child.kill('SIGTERM'))))}
}

export async function benchMongo({files = 10000} = {}) {
  const dir = path.join(tmpdir(), 'tagpress-bench', 'mongo-' + files)
  const content = path.join(dir, 'content')
  if (!existsSync(path.join(dir, '.corpus'))) {
    writeCorpus(content, files, 1)
    writeFileSync(path.join(dir, '.corpus'), '')
  }
  const {loadConfig} = await dist('config/load.js')
  const {build} = await dist('build/build.js')
  const {syncTrees} = await dist('mongo/sync.js')
  const {Progress} = await dist('build/progress.js')
  const env = {...process.env}
  delete env.MONGODB_URI
  const config = await loadConfig(dir, {}, env)

  process.stderr.write(`mongo bench: building ${files} files (no database)\n`)
  const memory = {}
  let built = await build(config, {memory})
  if (!memory.published) {
    // An earlier run's out/ was complete: the build took its no-op path and published nothing. Forget its state.
    rmSync(path.join(dir, '.tagpress', 'build-state.json'), {force: true})
    built = await build(config, {memory})
  }
  if (!built.ok || !memory.published) throw new Error('the benchmark corpus did not build')
  const published = memory.published
  const nodes = readFileSync(path.join(config.out, 'mongo', 'nodes.jsonl'), 'utf8').split('\n').length - 1

  const data = mkdtempSync(path.join(tmpdir(), 'tagpress-bench-ferretdb-'))
  const server = await startFerretDB(data)
  const db = 'bench_' + Date.now().toString(36)
  const mongoConfig = {...config, mongo: {uri: server.uri, db}}
  const progress = new Progress(process.stderr, false)
  const rows = []
  try {
    const sync = async (label, filesNow) => {
      process.stderr.write(`mongo bench: ${label}\n`)
      const started = performance.now()
      const report = await syncTrees(mongoConfig, filesNow, {deleteVanished: true, progress})
      rows.push({label, ms: performance.now() - started, report})
    }
    await sync('first sync, empty database', published)
    await sync('unchanged rebuild', published)

    // One answer edited: an incremental build, then the sync.
    const folder = path.join(content, 'part-3', 'chapter-4')
    const edited = path.join(folder, readdirSync(folder).filter((name) => name.endsWith('.md')).sort()[0])
    const text = readFileSync(edited, 'utf8')
    writeFileSync(edited, text.replace('[A/]', ' (edited for the benchmark)[A/]'))
    try {
      await build(config, {memory})
      await sync('one answer edited', memory.published)
    } finally {
      writeFileSync(edited, text)
    }
    await build(config, {memory})
    await syncTrees(mongoConfig, memory.published, {deleteVanished: true, progress})

    // The whole command as a user runs it, nothing changed.
    process.stderr.write('mongo bench: tagpress build --mongo, unchanged\n')
    const started = performance.now()
    const cli = spawnSync(process.execPath, [path.join(repo, 'bin', 'tagpress.js'), 'build', '--mongo', server.uri, '--db', db, '--stats'], {cwd: dir, encoding: 'utf8', env: {...env, CI: 'true'}, maxBuffer: 1 << 26})
    const cliMs = performance.now() - started
    const cliStats = JSON.parse(cli.stdout.trim().split('\n').pop() ?? '{}')
    return format({files, nodes, rows, cliMs, cliStats})
  } finally {
    await server.stop()
    rmSync(data, {recursive: true, force: true})
  }
}

function format({files, nodes, rows, cliMs, cliStats}) {
  const lines = [
    `${files.toLocaleString('en')} files, ${nodes.toLocaleString('en')} nodes (file → sections → Q/As), synced by \`syncTrees\` to **FerretDB v1.24 (SQLite backend, the embedded test server, on loopback) — not MongoDB**. FerretDB's SQLite backend scans the collection for every update by \`_id\` and decodes every document it reads; these numbers say nothing about a real MongoDB.`,
    '',
    '| sync | time | inserted | updated | deleted | unchanged | documents written/s | nodes compared/s |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'
  ]
  for (const {label, ms, report} of rows) {
    const written = report.inserted + report.updated + report.deleted
    const perSecond = (count) => Math.round(count / (ms / 1000)).toLocaleString('en')
    lines.push(`| ${label} | ${seconds(ms)} | ${report.inserted} | ${report.updated} | ${report.deleted} | ${report.unchanged} | ${written >= 100 ? perSecond(written) : '—'} | ${perSecond(report.inserted + report.updated + report.unchanged)} |`)
  }
  const mongo = cliStats.mongo ?? {}
  lines.push('', `\`tagpress build --mongo\` with nothing changed, whole command: ${seconds(cliMs)} (MongoDB: ${(mongo.inserted ?? 0) + (mongo.updated ?? 0) + (mongo.deleted ?? 0)} changed).`)
  return lines.join('\n')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const {values} = parseArgs({options: {files: {type: 'string'}}})
  console.log('## MongoDB trees (FerretDB)\n')
  console.log(await benchMongo({files: Number(values.files ?? 10000)}))
}
