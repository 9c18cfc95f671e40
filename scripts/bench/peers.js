// `npm run bench:peers`: the same synthetic corpus through Eleventy 3 and
// VitePress (build), and VitePress's dev server (start-up, save → updated
// page), beside tagpress, measured in one run. The peers are bench-only: they
// are installed into ~/.cache/tagpress/peers-<hash>/, never into the project.
import {execFileSync, spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {homedir, tmpdir} from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'
import {chromium} from 'playwright-core'
import {corpusDir, measureEdits, startServer} from './dev-bench.js'
import {machine, median, repo, seconds} from './lib.js'

const manifest = path.join(repo, 'scripts/bench/peers/package.json')

function installPeers() {
  const hash = createHash('sha256').update(readFileSync(manifest)).digest('hex').slice(0, 12)
  const dir = path.join(process.env.TAGPRESS_CACHE ?? path.join(homedir(), '.cache', 'tagpress'), 'peers-' + hash)
  if (!existsSync(path.join(dir, '.complete'))) {
    process.stderr.write('bench:peers: installing Eleventy and VitePress into ' + dir + ' (one time)\n')
    rmSync(dir, {recursive: true, force: true})
    mkdirSync(dir, {recursive: true})
    copyFileSync(manifest, path.join(dir, 'package.json'))
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {cwd: dir, stdio: ['ignore', 'ignore', 'inherit']})
    writeFileSync(path.join(dir, '.complete'), '')
  }
  return dir
}

/** A copy of the corpus as a VitePress project (its own folder, so caches never mix), resolving packages from the peers' install. */
function peerProject(size, name, peers) {
  const dir = path.join(tmpdir(), 'tagpress-bench-peers', name + '-' + size)
  if (!existsSync(path.join(dir, 'docs'))) {
    cpSync(path.join(corpusDir(size), 'content'), path.join(dir, 'docs'), {recursive: true})
    mkdirSync(path.join(dir, 'docs', '.vitepress'), {recursive: true})
    writeFileSync(path.join(dir, 'docs', '.vitepress', 'config.mjs'), "export default {title: 'bench', cleanUrls: false}\n")
  }
  if (!existsSync(path.join(dir, 'node_modules'))) symlinkSync(path.join(peers, 'node_modules'), path.join(dir, 'node_modules'))
  return dir
}

function timed(command, args, cwd) {
  const started = performance.now()
  const result = spawnSync(command, args, {cwd, encoding: 'utf8', env: {...process.env, CI: 'true'}, maxBuffer: 1 << 28})
  const ms = performance.now() - started
  if (result.status !== 0) throw new Error(args.join(' ') + ' failed:\n' + result.stderr.slice(-2000))
  return ms
}

async function main() {
  const {values} = parseArgs({options: {sizes: {type: 'string'}, runs: {type: 'string'}, edits: {type: 'string'}, 'dev-only': {type: 'boolean'}}})
  const sizes = values['dev-only'] ? [] : (values.sizes ?? '1000').split(',').map(Number)
  const devSizes = (values.sizes ?? '100,10000').split(',').map(Number)
  const runs = Number(values.runs ?? 3)
  const edits = Number(values.edits ?? 20)
  // An author's pace, and past chokidar's 50 ms window in which a file's next change event is dropped (Vite's watcher).
  const pacedGapMs = 300
  const peers = installPeers()
  const bin = (name) => path.join(peers, 'node_modules', '.bin', name)
  console.log(`Machine: ${machine()}\n\n## Builds beside peers\n`)
  console.log('| files | tagpress cold (all outputs) | Eleventy 3 | VitePress build |\n| ---: | ---: | ---: | ---: |')
  for (const size of sizes) {
    const dir = corpusDir(size)
    const vite = peerProject(size, 'vitepress', peers)
    const eleventy = peerProject(size, 'eleventy', peers)
    const t = {tagpress: [], eleventy: [], vitepress: []}
    for (let run = 0; run < runs; run++) {
      rmSync(path.join(dir, 'out'), {recursive: true, force: true})
      rmSync(path.join(dir, '.tagpress'), {recursive: true, force: true})
      t.tagpress.push(timed(process.execPath, [path.join(repo, 'bin/tagpress.js'), 'build', '--clean'], dir))
      rmSync(path.join(eleventy, '_site'), {recursive: true, force: true})
      t.eleventy.push(timed(bin('eleventy'), ['--input=docs', '--output=_site', '--quiet'], eleventy))
      rmSync(path.join(vite, 'docs', '.vitepress', 'dist'), {recursive: true, force: true})
      t.vitepress.push(timed(bin('vitepress'), ['build', 'docs'], vite))
    }
    console.log(`| ${size.toLocaleString('en')} | ${seconds(median(t.tagpress))} | ${seconds(median(t.eleventy))} | ${seconds(median(t.vitepress))} |`)
  }

  console.log('\n## Dev servers\n\n| pages | server | start-up to first page | save → updated page, a save every ' + pacedGapMs + ' ms after the last showed (median of ' + edits + ') | the same, back to back (median of ' + edits + ') |\n| ---: | --- | ---: | ---: | ---: |')
  const browser = await chromium.launch({executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update']})
  try {
    for (const size of devSizes) {
      const page0 = 'part-3/chapter-4/' + readdirSync(path.join(corpusDir(size), 'content', 'part-3', 'chapter-4')).filter((name) => name.endsWith('.md')).sort()[0]
      // tagpress twice: a first start (no .tagpress/ cache: it compiles everything) and a restart (cache warm).
      for (const server of ['tagpress, first start', 'tagpress, restart', 'vitepress']) {
        const ours = server.startsWith('tagpress')
        const dir = ours ? corpusDir(size) : path.join(peerProject(size, 'vitepress', peers), 'docs')
        if (server === 'tagpress, first start') for (const state of ['.tagpress', 'out']) rmSync(path.join(dir, state), {recursive: true, force: true})
        if (server === 'vitepress') rmSync(path.join(dir, '.vitepress', 'cache'), {recursive: true, force: true})
        const started = ours
          ? await startServer(process.execPath, [path.join(repo, 'bin/tagpress.js'), 'dev', '--port', '0'], corpusDir(size), /ready at (http:\/\/\S+)/)
          : await startServer(bin('vitepress'), ['dev', '.', '--port', String(6100 + Math.floor(Math.random() * 800))], dir, /Local:\s+(http:\/\/\S+)/)
        try {
          const page = await (await browser.newContext()).newPage()
          const connected = page.waitForEvent('console', {predicate: (message) => message.text().includes('[vite] connected'), timeout: 900_000})
          await page.goto(started.url.replace(/\/$/, '') + '/' + page0.replace(/\.md$/, '.html'), {timeout: 900_000})
          await page.waitForSelector('main', {timeout: 900_000})
          const startup = performance.now() - started.started
          await connected
          const latency = async (gapMs) => {
            try {
              return seconds(median(await measureEdits(page, path.join(dir, ours ? 'content' : '', page0), edits, (ours ? 'tagpress' : server) + gapMs, gapMs)))
            } catch (error) {
              // A server that never shows an edit is a result too, not a crash of the benchmark.
              if (error.name !== 'TimeoutError' && error.cause?.name !== 'TimeoutError') throw error
              console.error(server + ': ' + error.message)
              return 'an edit never showed (' + error.message.replace(/^edit (\d+) of (\d+).*/s, 'edit $1 of $2') + ')'
            }
          }
          // At an author's pace first (the comparison), then back to back (the next save as soon as the last one shows).
          const paced = await latency(pacedGapMs)
          const backToBack = await latency(0)
          console.log(`| ${size.toLocaleString('en')} | ${server} | ${seconds(startup)} | ${paced} | ${backToBack} |`)
          await page.context().close()
          // The restart that follows is an author's next day: the first start's build (and the last edit's) finished.
          if (server === 'tagpress, first start') await builtAfter(path.join(dir, 'out', 'manifest.json'), Date.now())
        } finally {
          started.child.kill('SIGTERM')
        }
      }
    }
  } finally {
    await browser.close()
  }
}

await main()

/** Wait (up to 20 minutes) for a build to write the manifest after `since`: the build under way has finished. */
async function builtAfter(manifest, since) {
  const deadline = Date.now() + 20 * 60_000
  while (Date.now() < deadline) {
    const stamp = statSync(manifest, {throwIfNoEntry: false})?.mtimeMs
    if (stamp !== undefined && stamp >= since) return
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  throw new Error('the dev server\'s build never finished: ' + manifest)
}
