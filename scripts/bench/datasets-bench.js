// Dataset tools benchmark: `tagpress export` of 1,000,000 records (MB/s, records/s,
// peak RSS), the export endpoint's time to first byte, and `tagpress mix` of two
// 1,000,000-line files. Every measurement runs in a child process (this file,
// started with --child), so peak RSS is the command's own; figures are medians.
// Targets: export >= 100 MB/s, peak RSS < 150 MB whatever the size, first byte < 50 ms.
//
//   node scripts/bench/datasets-bench.js [--records 1000000] [--runs 3]
import {spawnSync} from 'node:child_process'
import {once} from 'node:events'
import {createWriteStream, mkdirSync, mkdtempSync, openSync, closeSync, rmSync, statSync} from 'node:fs'
import http from 'node:http'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {parseArgs} from 'node:util'
import {median, repo} from './lib.js'

const self = fileURLToPath(import.meta.url)
const dist = (file) => pathToFileURL(path.join(repo, 'dist', file)).href

/** A corpus of `records` Q/A records (~330 bytes each) in `dir/out/datasets/`, and a second JSONL file for mixing. */
async function makeCorpus(dir, records) {
  const datasets = path.join(dir, 'out', 'datasets')
  mkdirSync(path.join(datasets, 'litgpt'), {recursive: true})
  const words = 'the block reader emits blocks of a section while the chapter reader emits whole sections with their subsections'.split(' ')
  const write = async (file, line) => {
    const stream = createWriteStream(file)
    let chunk = ''
    for (let index = 0; index < records; index++) {
      chunk += line(index)
      if (chunk.length > 1 << 20) {
        if (!stream.write(chunk)) await once(stream, 'drain')
        chunk = ''
      }
    }
    stream.end(chunk)
    await once(stream, 'finish')
  }
  const sentence = (index, length) => {
    const parts = []
    for (let word = 0; word < length; word++) parts.push(words[(index * 7 + word * 13) % words.length])
    return parts.join(' ')
  }
  await write(path.join(datasets, 'qa.jsonl'), (index) =>
    JSON.stringify({
      id: `guide/page-${index % 10000}#q-question-${index}`,
      file_id: `guide/page-${index % 10000}`,
      chapter_id: `1.${index % 4}`,
      chapter_tree: ['Guide', `Section ${index % 4}`],
      question: `What does item ${index} do?`,
      answer: sentence(index, 28),
      url: `guide/page-${index % 10000}.html#q-question-${index}`
    }) + '\n'
  )
  for (const name of ['blocks', 'chapters']) createWriteStream(path.join(datasets, name + '.jsonl')).end()
  await write(path.join(dir, 'other.jsonl'), (index) => JSON.stringify({instruction: `Say ${index}.`, input: '', output: sentence(index, 24)}) + '\n')
  return {qa: path.join(datasets, 'qa.jsonl'), other: path.join(dir, 'other.jsonl')}
}

/** Run this file as a child that runs one measurement; it prints one JSON line on stderr. */
function child(args, cwd) {
  const devNull = openSync('/dev/null', 'w')
  try {
    const result = spawnSync(process.execPath, [self, '--child', ...args], {cwd, stdio: ['ignore', devNull, 'pipe'], encoding: 'utf8', env: {...process.env, CI: 'true'}, maxBuffer: 1 << 24})
    const line = result.stderr.trim().split('\n').pop() ?? ''
    if (result.status !== 0 || !line.startsWith('{')) throw new Error('bench child failed: ' + args.join(' ') + '\n' + result.stderr)
    return JSON.parse(line)
  } finally {
    closeSync(devNull)
  }
}

/** In the child: run a CLI command (stdout is /dev/null) and report its time and peak RSS. */
async function runChild(args) {
  const [kind, ...rest] = args
  const started = performance.now()
  if (kind === 'export') {
    const {runExport} = await import(dist('src/cli/commands/export.js'))
    await runExport(rest)
  } else if (kind === 'mix') {
    const {runMix} = await import(dist('src/cli/commands/mix.js'))
    await runMix(rest)
  } else if (kind === 'ttfb') {
    const [out, count] = rest
    const {createExportHandler} = await import(dist('src/node/server/export-endpoint.js'))
    const handler = createExportHandler({out})
    const server = http.createServer((request, response) => handler(request, response))
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const {port} = server.address()
    const firsts = []
    let bytes = 0
    let streamMs = 0
    for (let index = 0; index < Number(count); index++) {
      const start = performance.now()
      const response = await fetch(`http://127.0.0.1:${port}/api/export/qa.jsonl`)
      const reader = response.body.getReader()
      const first = await reader.read()
      firsts.push(performance.now() - start)
      bytes = first.value.length
      // The last request reads the whole stream: the endpoint's throughput.
      if (index === Number(count) - 1) {
        for (;;) {
          const {done, value} = await reader.read()
          if (done) break
          bytes += value.length
        }
        streamMs = performance.now() - start
      } else await reader.cancel()
    }
    server.close()
    process.stderr.write(JSON.stringify({ttfbMs: median(firsts), streamMB: bytes / 1e6, streamMs, maxRssKB: process.resourceUsage().maxRSS}) + '\n')
    return
  }
  const ms = performance.now() - started
  process.stderr.write(JSON.stringify({ms, maxRssKB: process.resourceUsage().maxRSS}) + '\n')
}

/** The benchmark; returns a Markdown section. */
export async function benchDatasets({records = 1_000_000, runs = 3} = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'tagpress-bench-datasets-'))
  try {
    const {qa, other} = await makeCorpus(dir, records)
    const size = statSync(qa).size
    const out = path.join(dir, 'out')
    const measure = (label, args, bytes, count) => {
      const results = Array.from({length: runs}, () => child(args, dir))
      const ms = median(results.map((result) => result.ms))
      return {label, ms, mbps: bytes / 1e6 / (ms / 1000), rps: count / (ms / 1000), rssKB: Math.max(...results.map((result) => result.maxRssKB))}
    }
    const rows = [
      measure('export qa (jsonl, unfiltered)', ['export', 'qa', '--no-build', '--out', out], size, records),
      measure('export qa --filter chapter=1.1 (reads four fields a record)', ['export', 'qa', '--no-build', '--out', out, '--filter', 'chapter=1.1'], size, records),
      measure('export qa --format alpaca (convert every record)', ['export', 'qa', '--no-build', '--out', out, '--format', 'alpaca'], size, records),
      measure('export qa --gzip', ['export', 'qa', '--no-build', '--out', out, '--gzip'], size, records),
      measure(`mix qa:${records / 2} other:${records / 2}`, ['mix', `${qa}:${records / 2}`, `${other}:${records / 2}`, '--seed', '1'], size + statSync(other).size, 2 * records)
    ]
    const endpoint = Array.from({length: runs}, () => child(['ttfb', out, '5'], dir))
    const ttfb = median(endpoint.map((result) => result.ttfbMs))
    const streamMs = median(endpoint.map((result) => result.streamMs))
    const lines = [
      `${records.toLocaleString('en')} Q/A records, ${(size / 1e6).toFixed(0)} MB (mix: two files of ${records.toLocaleString('en')} lines); medians of ${runs} runs, each command in its own process. MB/s counts input bytes read; mix reads both files whole.`,
      '',
      '| command | time | MB/s | records/s | peak RSS |',
      '| --- | ---: | ---: | ---: | ---: |'
    ]
    for (const row of rows) {
      lines.push(`| \`tagpress ${row.label}\` | ${(row.ms / 1000).toFixed(2)} s | ${row.mbps.toFixed(0)} | ${Math.round(row.rps).toLocaleString('en')} | ${(row.rssKB / 1024).toFixed(0)} MB |`)
    }
    lines.push(
      `| \`GET /api/export/qa.jsonl\` (whole stream) | ${(streamMs / 1000).toFixed(2)} s | ${(size / 1e6 / (streamMs / 1000)).toFixed(0)} | ${Math.round(records / (streamMs / 1000)).toLocaleString('en')} | ${(Math.max(...endpoint.map((result) => result.maxRssKB)) / 1024).toFixed(0)} MB (server and client) |`
    )
    lines.push('', `Endpoint time to first byte (first record, loopback): ${ttfb.toFixed(1)} ms (median of ${runs} × 5 requests). Targets: export ≥ 100 MB/s, peak RSS < 150 MB, first byte < 50 ms.`)
    return lines.join('\n')
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

if (process.argv[1] === self) {
  if (process.argv[2] === '--child') await runChild(process.argv.slice(3))
  else {
    const {values} = parseArgs({options: {records: {type: 'string'}, runs: {type: 'string'}}})
    console.log('## Datasets\n')
    console.log(await benchDatasets({records: Number(values.records ?? 1_000_000), runs: Number(values.runs ?? 3)}))
  }
}
