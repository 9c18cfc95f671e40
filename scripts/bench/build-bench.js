// Issue 2's benchmark: a cold full build against a bare unified pipeline
// (1 and 2 threads, with and without the same highlighter; and with GFM, the
// syntax the SPEC requires, and the highlighter), a warm build, and
// a rebuild after one edit, at 1,000 and 10,000 files, measured in one run.
import {appendFileSync, existsSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {writeCorpus} from './corpus.js'
import {median, megabytes, repo, runJson, seconds} from './lib.js'

const cli = path.join(repo, 'bin', 'tagpress.js')

function tagpress(dir, ...args) {
  return runJson([cli, 'build', '--stats', ...args], {cwd: dir})
}

function bare(content, out, threads, highlight, gfm = false) {
  rmSync(out, {recursive: true, force: true})
  return runJson([path.join(repo, 'scripts/bench/bare.js'), content, out, String(threads), ...(highlight ? ['--highlight'] : []), ...(gfm ? ['--gfm'] : [])])
}

export async function benchBuild({sizes, runs}) {
  const rows = []
  for (const size of sizes) {
    const dir = path.join(tmpdir(), 'tagpress-bench', String(size))
    const content = path.join(dir, 'content')
    if (!existsSync(path.join(dir, '.corpus-' + size))) {
      writeCorpus(content, size, 1)
      writeFileSync(path.join(dir, '.corpus-' + size), '')
    }
    const repeat = size >= 10000 ? Math.max(1, Math.min(runs, 3)) : runs
    const times = {bare1: [], bare2: [], bare2hl: [], bare2gfm: [], cold: [], warm: [], edit: []}
    let coldRss = 0
    let editRss = 0
    const coldSteps = []
    const editSteps = []
    for (let run = 0; run < repeat; run++) {
      process.stderr.write(`build bench: ${size} files, run ${run + 1}/${repeat}\n`)
      times.bare1.push(bare(content, path.join(dir, 'bare-out'), 1, false).ms)
      times.bare2.push(bare(content, path.join(dir, 'bare-out'), 2, false).ms)
      times.bare2hl.push(bare(content, path.join(dir, 'bare-out'), 2, true).ms)
      times.bare2gfm.push(bare(content, path.join(dir, 'bare-out'), 2, true, true).ms)
      rmSync(path.join(dir, 'out'), {recursive: true, force: true})
      rmSync(path.join(dir, '.tagpress'), {recursive: true, force: true})
      const cold = tagpress(dir, '--clean')
      times.cold.push(cold.timings.total)
      coldSteps.push({compile: cold.timings.compile, ...cold.timings.steps})
      coldRss = Math.max(coldRss, cold.maxRssKB)
      times.warm.push(tagpress(dir).timings.total)
      const edited = path.join(content, 'part-3', 'chapter-4', readdirFirst(path.join(content, 'part-3', 'chapter-4')))
      appendFileSync(edited, `\nEdited in run ${run}: one more sentence for the rebuild.\n`)
      const edit = tagpress(dir)
      if (edit.compiled !== 1) throw new Error('expected one file recompiled, got ' + edit.compiled)
      times.edit.push(edit.timings.total)
      editSteps.push({compile: edit.timings.compile, ...edit.timings.steps})
      editRss = Math.max(editRss, edit.maxRssKB)
    }
    const m = Object.fromEntries(Object.entries(times).map(([key, values]) => [key, median(values)]))
    rows.push({size, runs: repeat, ...m, coldRss, editRss, coldSteps: medianSteps(coldSteps), editSteps: medianSteps(editSteps)})
  }
  return rows
}

/** Each output step's median time over the runs. */
function medianSteps(runs) {
  const names = Object.keys(runs[0] ?? {})
  return Object.fromEntries(names.map((name) => [name, median(runs.map((steps) => steps[name] ?? 0))]))
}

/** The first Markdown file of a folder in name order: a stable file to edit. */
function readdirFirst(dir) {
  return readdirSync(dir).filter((name) => name.endsWith('.md')).sort()[0]
}

export function formatBuild(rows) {
  const lines = [
    '| files | bare, 1 thread | bare, 2 threads | bare + highlighter, 2 threads | bare + GFM + highlighter, 2 threads | tagpress cold (all outputs) | cold ÷ bare 2 threads (+hl) [+GFM +hl] | warm, nothing changed | one-edit rebuild | peak RSS cold / edit |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'
  ]
  for (const row of rows) {
    lines.push(
      `| ${row.size.toLocaleString('en')} | ${seconds(row.bare1)} | ${seconds(row.bare2)} | ${seconds(row.bare2hl)} | ${seconds(row.bare2gfm)} | ${seconds(row.cold)} | ${(row.cold / row.bare2).toFixed(2)}× (${(row.cold / row.bare2hl).toFixed(2)}×) [${(row.cold / row.bare2gfm).toFixed(2)}×] | ${seconds(row.warm)} | ${seconds(row.edit)} | ${megabytes(row.coldRss)} / ${megabytes(row.editRss)} |`
    )
  }
  // Where the time after compiling goes: each output step (the Datasets and Train pages are `downloads`).
  const steps = Object.keys(rows[0]?.coldSteps ?? {})
  lines.push('', '| files | build | ' + steps.join(' | ') + ' |', '| ---: | --- |' + ' ---: |'.repeat(steps.length))
  for (const row of rows) {
    for (const [label, times, total] of [['cold', row.coldSteps, row.cold], ['one edit', row.editSteps, row.edit]]) {
      lines.push(`| ${row.size.toLocaleString('en')} | ${label} | ` + steps.map((step) => `${seconds(times[step] ?? 0)} (${(((times[step] ?? 0) / total) * 100).toFixed(1)}%)`).join(' | ') + ' |')
    }
  }
  return lines.join('\n')
}
