import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {createHash, randomBytes} from 'node:crypto'
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {homedir} from 'node:os'
import path from 'node:path'
import {createInterface} from 'node:readline'
import {MongoClient, type Db} from 'mongodb'
import {compile} from './compile.js'
import {fileDocuments} from '../../src/node/mongo/documents.js'
import type {DocumentNode} from '../../src/node/mongo/schema.js'

/**
 * A MongoDB-wire server for tests: the embedded FerretDB v1 program in
 * `test/ferretdb/` (built once by `scripts/setup/ferretdb.sh` into
 * `$HOME/.cache/tagpress/ferretdb-<hash>/`, started per test file on a free
 * loopback port), or the server `TAGPRESS_TEST_MONGODB_URI` names (then
 * FerretDB is never built). Tests never read `MONGODB_URI`.
 *
 * Under `CI=true` a missing Go fails the tests; elsewhere they skip with a
 * message saying how to run them.
 */

export const repo = path.join(import.meta.dirname, '..', '..')
const cli = path.join(repo, 'bin', 'tagpress.js')
const setupScript = path.join(repo, 'scripts', 'setup', 'ferretdb.sh')

export const externalUri = process.env.TAGPRESS_TEST_MONGODB_URI || undefined

export interface Availability {
  ok: boolean
  /** Why the Mongo tests skip (when `ok` is false). */
  reason?: string
}

let availability: Availability | undefined

/** Whether the Mongo tests can run here; under `CI=true` they must, so this throws instead of skipping. */
export function mongoAvailability(): Availability {
  if (availability) return availability
  if (externalUri) return (availability = {ok: true})
  if (existsSync(cachedBinary())) return (availability = {ok: true})
  const go = spawnSync('go', ['version'], {encoding: 'utf8'})
  if (go.status === 0) return (availability = {ok: true})
  const reason = 'MongoDB tests skipped: no Go to build the FerretDB test server (install Go >= 1.24, or set TAGPRESS_TEST_MONGODB_URI to a MongoDB for tests)'
  if (process.env.CI === 'true') throw new Error(reason.replace('skipped', 'cannot run under CI=true'))
  process.stderr.write(reason + '\n')
  return (availability = {ok: false, reason})
}

let binary: string | undefined

/** Where `scripts/setup/ferretdb.sh` puts the binary: keyed by the SHA-256 of go.sum then main.go. */
export function cachedBinary(): string {
  const source = path.join(repo, 'test', 'ferretdb')
  const hash = createHash('sha256').update(readFileSync(path.join(source, 'go.sum'))).update(readFileSync(path.join(source, 'main.go'))).digest('hex').slice(0, 16)
  const cache = process.env.TAGPRESS_CACHE || path.join(homedir(), '.cache', 'tagpress')
  return path.join(cache, 'ferretdb-' + hash, 'ferretdb')
}

/** The FerretDB test server's binary, built on first use (cached across runs and clones; asynchronous, as a cold build takes minutes). */
export async function ferretdbBinary(): Promise<string> {
  if (binary) return binary
  if (existsSync(cachedBinary())) return (binary = cachedBinary())
  const result = await new Promise<{status: number | null; stdout: string; stderr: string}>((resolve) => {
    const child = spawn('bash', [setupScript], {stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
      process.stderr.write(chunk)
    })
    child.on('close', (status) => resolve({status, stdout, stderr}))
  })
  const found = result.stdout.trim().split('\n').pop() ?? ''
  if (result.status !== 0 || !found || !existsSync(found)) {
    throw new Error('Could not build the FerretDB test server (scripts/setup/ferretdb.sh exited ' + result.status + '):\n' + result.stderr)
  }
  return (binary = found)
}

export interface FerretServer {
  uri: string
  process: ChildProcess
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>
  /** SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<void>
}

/** Start a FerretDB on a free loopback port; with `dir`, its SQLite files persist there (a restart sees the data). */
export async function startFerretDB(options: {dir?: string} = {}): Promise<FerretServer> {
  const child = spawn(await ferretdbBinary(), ['-listen', '127.0.0.1:0', '-log', 'error', ...(options.dir ? ['-dir', options.dir] : [])], {stdio: ['pipe', 'pipe', 'pipe']})
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const uri = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({input: child.stdout as NodeJS.ReadableStream})
    const timer = setTimeout(() => reject(new Error('FerretDB did not print its URI within 30 s:\n' + stderr)), 30_000)
    lines.once('line', (line) => {
      clearTimeout(timer)
      resolve(line.trim())
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error('FerretDB exited with ' + code + ' before printing its URI:\n' + stderr))
    })
  })
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill(signal)
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }
  return {uri, process: child, kill: () => end('SIGKILL'), stop: () => end('SIGTERM')}
}

export interface TestMongo {
  uri: string
  kind: 'ferretdb' | 'external'
  /** A fresh throwaway database name (dropped by `stop` on an external server). */
  database(label?: string): string
  /** A connected client (closed by `stop`). */
  client(): Promise<MongoClient>
  stop(): Promise<void>
}

/** The test server: `TAGPRESS_TEST_MONGODB_URI`'s, or a FerretDB started for this test file. */
export async function startTestMongo(): Promise<TestMongo> {
  const ferret = externalUri ? undefined : await startFerretDB()
  const uri = externalUri ?? (ferret as FerretServer).uri
  const databases: string[] = []
  let client: MongoClient | undefined
  return {
    uri,
    kind: ferret ? 'ferretdb' : 'external',
    database(label = 'test') {
      const name = 'tp_' + label.replace(/[^a-z0-9]/gi, '').slice(0, 20) + '_' + randomBytes(5).toString('hex')
      databases.push(name)
      return name
    },
    async client() {
      client ??= await new MongoClient(uri, {serverSelectionTimeoutMS: 10_000}).connect()
      return client
    },
    async stop() {
      if (externalUri) {
        const admin = client ?? (await new MongoClient(uri, {serverSelectionTimeoutMS: 10_000}).connect().catch(() => undefined))
        for (const name of databases) await admin?.db(name).dropDatabase().catch(() => undefined)
        if (admin !== client) await admin?.close()
      }
      await client?.close()
      await ferret?.stop()
    }
  }
}

/** The environment for a CLI run in tests: never the developer's `MONGODB_URI`. */
export function testEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {...process.env, CI: 'true', ...extra}
  delete env.MONGODB_URI
  delete env.TAGPRESS_TEST_MONGODB_URI
  return env
}

// The CLI, as a user runs it ------------------------------------------------

export interface CliResult {
  status: number
  stdout: string
  stderr: string
}

/** Run the CLI in a folder, as a user would (without the developer's MONGODB_URI). */
export function tagpress(dir: string, args: string[], env: Record<string, string> = {}): CliResult {
  const result = spawnSync(process.execPath, [cli, ...args], {cwd: dir, encoding: 'utf8', env: testEnv(env), maxBuffer: 1 << 26})
  return {status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr}
}

/** The same, without waiting: for builds that run together. */
export function tagpressAsync(dir: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> & {pid: number | undefined; stderr: () => string} {
  const child = spawn(process.execPath, [cli, ...args], {cwd: dir, env: testEnv(env), stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const done = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({status: code ?? -1, stdout, stderr})))
  return Object.assign(done, {pid: child.pid, stderr: () => stderr})
}

export interface MongoReport {
  inserted: number
  updated: number
  deleted: number
  unchanged: number
  error?: string
}

/** `build --mongo URI --db DB --stats`: the exit status, the sync's report, stderr. */
export function buildMongo(dir: string, uri: string, db: string, ...extra: string[]): {status: number; mongo: MongoReport | undefined; stats: Record<string, unknown>; stderr: string} {
  const result = tagpress(dir, ['build', '--mongo', uri, '--db', db, '--stats', ...extra])
  const line = result.stdout.trim().split('\n').pop() ?? '{}'
  let stats: Record<string, unknown> = {}
  try {
    stats = JSON.parse(line) as Record<string, unknown>
  } catch {
    throw new Error('No stats from the build (exit ' + result.status + '):\n' + result.stderr + result.stdout)
  }
  return {status: result.status, mongo: stats.mongo as MongoReport | undefined, stats, stderr: result.stderr}
}

/** Every node in a database, by `_id`, without the timestamps (unless asked). */
export async function nodesOf(db: Db, keepTimes = false): Promise<Map<string, Record<string, unknown>>> {
  const docs = await db.collection('nodes').find({}).sort({_id: 1}).toArray()
  return new Map(
    docs.map((doc) => {
      const copy: Record<string, unknown> = {...doc}
      if (!keepTimes) {
        delete copy.created_at
        delete copy.updated_at
      }
      return [String(doc._id), copy]
    })
  )
}

/** The document nodes the compiler gives for a content folder: compile each published file, then build its tree. */
export async function compilerNodes(contentDir: string, project: string): Promise<Map<string, DocumentNode[]>> {
  const trees = new Map<string, DocumentNode[]>()
  for (const source of markdownFiles(contentDir)) {
    const {compiled} = await compile(readFileSync(path.join(contentDir, source), 'utf8'), source, {}, contentDir)
    if (compiled.settings.draft) continue
    trees.set(compiled.fileId, fileDocuments({source, meta: compiled}, project, compiled))
  }
  return trees
}

export function markdownFiles(dir: string): string[] {
  return readdirSync(dir, {recursive: true, encoding: 'utf8'})
    .filter((entry) => entry.endsWith('.md') && statSync(path.join(dir, entry)).isFile())
    .map((entry) => entry.split(path.sep).join('/'))
    .sort()
}

/** The lines of `out/mongo/nodes.jsonl`. */
export function jsonlLines(dir: string): string[] {
  return readFileSync(path.join(dir, 'out', 'mongo', 'nodes.jsonl'), 'utf8').split('\n').filter((line) => line !== '')
}
