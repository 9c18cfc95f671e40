// Issue 3's benchmark: 10,000 cards to an .apkg through the real deck output
// (planning, HTML rewriting, the SQLite collection, zip, cards.json and cards.tsv),
// and the same deck read back to JSONL. Each run is a fresh child process, so
// its peak RSS is the deck's alone; the table shows the median of the runs.
//   benchAnki({cards, runs}) -> Markdown section
//   node scripts/bench/anki-bench.js [--cards N] [--runs N]   prints the section
//   node scripts/bench/anki-bench.js --child N                one measurement, JSON
import {mkdtempSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {parseArgs} from 'node:util'
import {median, megabytes, repo, runJson, seconds} from './lib.js'

const self = new URL(import.meta.url).pathname

/** Synthetic compiled files: `cards` Q/A pairs, 100 per file, with inline code, a list and a highlighted block. */
function files(cards) {
  const perFile = 100
  const out = []
  for (let start = 0, file = 0; start < cards; start += perFile, file++) {
    const fileId = 'part-' + Math.floor(file / 10) + '/chapter-' + (file % 10)
    const sections = [
      {number: '1', level: 1, title: 'Chapter ' + file, text: 'Chapter ' + file, anchor: 'c', chapterTree: ['Chapter ' + file], slugPath: 'c', parent: -1},
      ...Array.from({length: 10}, (_, index) => ({
        number: '1.' + (index + 1), level: 2, title: 'Section ' + index, text: 'Section ' + index, anchor: 's' + index,
        chapterTree: ['Chapter ' + file, 'Section ' + index], slugPath: 'c/s' + index, parent: 0
      }))
    ]
    const qa = []
    for (let index = start; index < Math.min(cards, start + perFile); index++) {
      const question = 'What does step ' + index + ' of the build do?'
      qa.push({
        id: fileId + '#q-' + index, anchor: 'q-' + index, question, questionText: question, answer: 'It runs `build ' + index + '`.',
        section: 1 + (index % 10), line: 10 + index,
        questionHtml: 'What does step ' + index + ' of the build do?',
        answerHtml:
          '<p>It runs <code>build ' + index + '</code> over every file, then:</p>\n<ul>\n<li>writes the site;</li>\n<li>writes the datasets.</li>\n</ul>\n' +
          '<div class="tp-code" data-lang="js"><pre class="shiki" tabindex="0"><code><span class="line"><span class="sk-keyword">const</span> <span class="sk-constant">step</span> <span class="sk-keyword">=</span> <span class="sk-constant">' + index +
          '</span></span>\n<span class="line"><span class="sk-function">build</span>(step) <span class="sk-comment">// see the guide</span></span></code></pre></div>',
        media: []
      })
    }
    const detail = {sections, qa, code: []}
    out.push({
      source: fileId + '.md', key: 'k' + file, time: 1_700_000_000 + file,
      meta: {fileId, source: fileId + '.md', title: 'Chapter ' + file, settings: {tags: ['bench', 'build steps']}, assets: [], counts: {qa: qa.length}},
      detail: () => detail,
      parts: () => ({})
    })
  }
  return out
}

/** One measurement in this process: write the deck, then read it back. */
async function child(cards) {
  const {ankiOutput} = await import(pathToFileURL(path.join(repo, 'dist/src/node/anki/output.js')).href)
  const {readDeck} = await import(pathToFileURL(path.join(repo, 'dist/src/node/anki/reader.js')).href)
  const out = mkdtempSync(path.join(tmpdir(), 'tagpress-anki-bench-'))
  try {
    const config = {root: out, content: path.join(out, 'content'), out, site: {title: 'Bench', base: '/', lang: 'en'}, folders: {}, anki: {deck: 'Bench', answerIntro: '', packages: 'project'}}
    const published = files(cards)
    const started = performance.now()
    const result = await ankiOutput.write({config, stateDir: out, buildId: 'bench', files: published, progress: {}, previous: undefined, warn: () => {}})
    const write = performance.now() - started
    const deck = result.files.find((file) => file.path.endsWith('.apkg'))
    const readStarted = performance.now()
    let records = 0
    for await (const record of readDeck(path.join(out, deck.path))) records += record.guid ? 1 : 0
    const read = performance.now() - readStarted
    if (records !== cards || deck.records !== cards) throw new Error('expected ' + cards + ' cards, wrote ' + deck.records + ', read ' + records)
    return {write, read, bytes: statSync(path.join(out, deck.path)).size, maxRssKB: process.resourceUsage().maxRSS}
  } finally {
    rmSync(out, {recursive: true, force: true})
  }
}

export async function benchAnki({cards = 10_000, runs = 5} = {}) {
  const results = []
  for (let run = 0; run < runs; run++) {
    process.stderr.write(`anki bench: ${cards} cards, run ${run + 1}/${runs}\n`)
    results.push(runJson([self, '--child', String(cards)]))
  }
  const m = (key) => median(results.map((result) => result[key]))
  return [
    '## Anki decks',
    '',
    `${cards.toLocaleString('en')} cards (100 files, each answer a paragraph, a list and a highlighted code block) through the deck output: ` +
      'plan, write the .apkg (SQLite collection, zip), cards.json and cards.tsv; then the .apkg read back to records as `tagpress anki import` does ' +
      '(with sql.js, whose start-up the read pays: the writer no longer loads it). ' +
      `Median of ${runs} runs, each in a fresh process.`,
    '',
    '| cards | write (.apkg + cards.json + cards.tsv) | read back | peak RSS | .apkg size |',
    '| ---: | ---: | ---: | ---: | ---: |',
    `| ${cards.toLocaleString('en')} | ${seconds(m('write'))} | ${seconds(m('read'))} | ${megabytes(m('maxRssKB'))} | ${(m('bytes') / 2 ** 20).toFixed(1)} MB |`
  ].join('\n')
}

if (process.argv[1] && path.resolve(process.argv[1]) === self) {
  const {values} = parseArgs({options: {child: {type: 'string'}, cards: {type: 'string'}, runs: {type: 'string'}}})
  if (values.child) console.log(JSON.stringify(await child(Number(values.child))))
  else console.log(await benchAnki({cards: Number(values.cards ?? 10_000), runs: Number(values.runs ?? 5)}))
}
