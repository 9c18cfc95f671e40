// Issue 6's benchmark: save-to-updated-page latency in a real browser (median
// of 20 edits), datasets current on disk, dev-server start-up to first page,
// and RSS over 500 edits, at 100 and 10,000 pages.
import {spawn} from 'node:child_process'
import {cpSync, existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {chromium} from 'playwright-core'
import {writeCorpus} from './corpus.js'
import {median, megabytes, repo, seconds} from './lib.js'

const cli = path.join(repo, 'bin', 'tagpress.js')
const chrome = process.env.CHROME_PATH ?? '/usr/bin/chromium'

export function corpusDir(size) {
  const dir = path.join(tmpdir(), 'tagpress-bench', String(size))
  if (!existsSync(path.join(dir, '.corpus-' + size))) {
    writeCorpus(path.join(dir, 'content'), size, 1)
    writeFileSync(path.join(dir, '.corpus-' + size), '')
  }
  return dir
}

/** Start a dev server command; resolve with its URL and the time until the first page answered. */
export async function startServer(command, args, cwd, readyPattern) {
  const started = performance.now()
  const child = spawn(command, args, {cwd, env: {...process.env, CI: 'true'}, stdio: ['ignore', 'pipe', 'pipe']})
  let output = ''
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start:\n' + output)), 900_000)
    const onData = (chunk) => {
      output += chunk.toString()
      const match = readyPattern.exec(output.replace(/\x1b\[[0-9;]*m/g, ''))
      if (match) {
        clearTimeout(timer)
        resolve(match[1])
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('exit', (code) => reject(new Error('server exited ' + code + ':\n' + output)))
  })
  // A server that dies mid-bench (not by our SIGTERM: 143) says why (its output so far), instead of leaving a browser timeout to explain it.
  child.on('exit', (code, signal) => {
    if ((code !== null && code !== 0 && code !== 143) || process.env.BENCH_DEBUG) console.error('server exited ' + code + (signal ? ' (' + signal + ')' : '') + ':\n' + output.slice(-4000))
  })
  return {child, url, started, output: () => output}
}

function rssKB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
}

/**
 * Edit a page's source N times; each time measure save → new text in the open page. The next save follows the
 * shown edit at once, or `gapMs` later (an author's pace: some servers miss a save that soon after the last).
 */
export async function measureEdits(page, file, count, marker, gapMs = 0) {
  const original = readFileSync(file, 'utf8')
  const latencies = []
  try {
    for (let edit = 0; edit < count; edit++) {
      const token = `${marker}-${edit}-${Date.now()}`
      const waiting = page.waitForFunction((text) => document.querySelector('main')?.textContent?.includes(text), token, {timeout: 30_000, polling: 'raf'})
      const saved = performance.now()
      writeFileSync(file, original + `\nEdit ${token}.\n`)
      try {
        await waiting
      } catch (error) {
        // Which edit never showed, and what the page shows instead: a lost edit is a bug, not a slow one.
        const shown = await page.evaluate(() => document.querySelector('main')?.textContent?.match(/Edit \S+/g)?.join(' ') ?? '(no edit shown)').catch(() => '(page gone)')
        throw new Error(`edit ${edit} of ${count} (${marker}) never showed in the page within 30 s; it shows: ${shown}`, {cause: error})
      }
      latencies.push(performance.now() - saved)
      if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs))
    }
  } finally {
    writeFileSync(file, original)
  }
  return latencies
}

export async function benchDev({sizes, edits = 20, leakEdits = 500}) {
  const browser = await chromium.launch({executablePath: chrome, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update']})
  const rows = []
  try {
    for (const size of sizes) {
      const dir = corpusDir(size)
      const {child, url, started, output} = await startServer(process.execPath, [cli, 'dev', '--port', '0'], dir, /ready at (http:\/\/\S+)/)
      try {
        const pagePath = 'part-3/chapter-4/' + readdirSync(path.join(dir, 'content', 'part-3', 'chapter-4')).filter((name) => name.endsWith('.md')).sort()[0]
        const page = await (await browser.newContext()).newPage()
        const connected = page.waitForEvent('console', {predicate: (message) => message.text().includes('[vite] connected'), timeout: 120_000})
        await page.goto(url + pagePath.replace(/\.md$/, '.html'))
        await connected
        if (process.env.BENCH_DEBUG) { console.error('page', page.url()); page.on('console', (m) => console.error('console:', m.text())) }
        const startup = performance.now() - started
        const file = path.join(dir, 'content', pagePath)
        const latencies = await measureEdits(page, file, edits, 'lat')
        // Datasets: time from a save until blocks.jsonl holds the edit.
        const datasetTimes = []
        const original = readFileSync(file, 'utf8')
        for (let edit = 0; edit < 5; edit++) {
          const token = `disk-${edit}-${Date.now()}`
          const saved = performance.now()
          writeFileSync(file, original.replace('[/BLOCKREAD/]', `${token} [/BLOCKREAD/]`))
          const deadline = saved + 60_000
          // Read the (large) file only when it was replaced: the bench's own reads must not slow the server it measures.
          const blocks = path.join(dir, 'out', 'datasets', 'blocks.jsonl')
          let seen = -1
          const holdsEdit = () => {
            // Not written yet: a first start's build is still under way.
            const stamp = statSync(blocks, {throwIfNoEntry: false})?.mtimeMs
            if (stamp === undefined) return false
            if (stamp === seen) return false
            seen = stamp
            return readFileSync(blocks, 'utf8').includes(token)
          }
          while (performance.now() < deadline && !holdsEdit()) await new Promise((resolve) => setTimeout(resolve, 10))
          datasetTimes.push(performance.now() - saved)
        }
        writeFileSync(file, original)
        let leak
        if (leakEdits > 0 && size <= 100) {
          // RSS every 100 edits: growth that levels off (heaps sizing up) reads differently from a leak. Before and
          // after are both taken at rest (2 s after the last edit), so they compare like with like.
          await new Promise((resolve) => setTimeout(resolve, 2000))
          const before = rssKB(child.pid)
          const samples = []
          for (let done = 0; done < leakEdits; done += 100) {
            await measureEdits(page, file, Math.min(100, leakEdits - done), 'leak')
            samples.push(rssKB(child.pid))
          }
          await new Promise((resolve) => setTimeout(resolve, 2000))
          leak = {before, after: rssKB(child.pid), samples}
        }
        rows.push({size, startup, latency: median(latencies), datasets: median(datasetTimes), leak})
        await page.context().close()
      } catch (error) {
        // What the server said (with TAGPRESS_DEBUG_TIMING=1: every change it saw and compiled).
        console.error('tagpress dev output, last 6000 characters:\n' + output().slice(-6000))
        throw error
      } finally {
        child.kill('SIGTERM')
      }
    }
  } finally {
    await browser.close()
  }
  return rows
}

export function formatDev(rows) {
  const lines = [
    '| pages | start-up to first page | save → updated page (median of 20) | save → datasets on disk (median of 5) | RSS before / after 500 edits | RSS every 100 edits |',
    '| ---: | ---: | ---: | ---: | ---: | --- |'
  ]
  for (const row of rows) {
    const leak = row.leak ? `${megabytes(row.leak.before)} / ${megabytes(row.leak.after)} (${(((row.leak.after - row.leak.before) / row.leak.before) * 100).toFixed(0)}%)` : '—'
    const samples = row.leak?.samples ? row.leak.samples.map((kb) => megabytes(kb).replace(' MB', '')).join(', ') + ' MB' : '—'
    lines.push(`| ${row.size.toLocaleString('en')} | ${seconds(row.startup)} | ${seconds(row.latency)} | ${seconds(row.datasets)} | ${leak} | ${samples} |`)
  }
  return lines.join('\n')
}
