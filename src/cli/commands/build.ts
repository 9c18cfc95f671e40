import {build} from '../../node/build/build.js'
import {loadConfig} from '../../node/config/load.js'
import {UserError} from '../../node/errors.js'
import type {CliValues} from '../main.js'
import {formatProblems, problemsJson} from '../report.js'

/** `tagpress build` and `tagpress check` (which writes nothing under `out/`). */
export async function runBuild(values: CliValues, mode: {write: boolean}): Promise<number> {
  const format = values.format ?? 'text'
  if (format !== 'text' && format !== 'json') throw new UserError('--format must be `text` or `json`, not `' + format + '`')
  const workers = values.workers === undefined ? undefined : Number(values.workers)
  if (workers !== undefined && !(Number.isInteger(workers) && workers > 0)) throw new UserError('--workers must be a positive whole number')
  const config = await loadConfig(process.cwd(), {
    ...(values.config ? {config: values.config} : {}),
    ...(values.content ? {content: values.content} : {}),
    ...(values.out ? {out: values.out} : {}),
    ...(values.base ? {base: values.base} : {}),
    ...(values.mongo ? {mongo: values.mongo} : {}),
    ...(values.db ? {db: values.db} : {})
  })
  const result = await build(config, {write: mode.write, clean: values.clean === true, ...(workers ? {workers} : {})})

  if (format === 'json') process.stdout.write(problemsJson(result.problems, config.content) + '\n')
  else if (result.problems.length > 0) process.stderr.write(formatProblems(result.problems, config.content) + '\n')
  if (format === 'text') for (const warning of result.warnings) process.stderr.write('tagpress: warning: ' + warning + '\n')
  if (result.mongo?.error) process.stderr.write('tagpress: MongoDB: ' + result.mongo.error + '\n')
  else if (result.mongo && format === 'text' && !values.stats) {
    const {inserted, updated, deleted} = result.mongo
    const changed = inserted + updated + deleted
    process.stderr.write(`tagpress: MongoDB: ${changed} changed (${inserted} inserted, ${updated} updated, ${deleted} deleted)\n`)
  }

  const {stats} = result
  if (values.stats) process.stdout.write(JSON.stringify(result.mongo ? {...stats, mongo: result.mongo} : stats) + '\n')
  else if (format === 'text') {
    const verb = mode.write ? 'built' : 'checked'
    const summary = mode.write
      ? `${count(stats.pages, 'page')} (${stats.pagesWritten} written), ${count(stats.records.blocks, 'block')}, ${count(stats.records.chapters, 'chapter')}, ${stats.records.qa} Q/A`
      : count(stats.files, 'file')
    const errors = stats.errors > 0 ? `; ${stats.errors} file${stats.errors === 1 ? '' : 's'} with errors` : ''
    process.stderr.write(`tagpress: ${verb} ${summary} in ${(stats.timings.total / 1000).toFixed(2)}s${errors}\n`)
  }
  return result.ok ? 0 : 1
}

function count(value: number, noun: string): string {
  return value + ' ' + noun + (value === 1 ? '' : 's')
}
