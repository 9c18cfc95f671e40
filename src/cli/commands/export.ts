import {existsSync, statSync} from 'node:fs'
import path from 'node:path'
import {parseArgs} from 'node:util'
import {Progress} from '../../node/build/progress.js'
import {loadConfig} from '../../node/config/load.js'
import {UserError} from '../../node/errors.js'
import {checkDataset, checkFormat, exportBatches, framing, type Batch} from '../../node/datasets/export.js'
import {parseFilter} from '../../node/datasets/filters.js'
import {StreamProgress} from '../../node/datasets/progress.js'
import {textSeparator} from '../../node/datasets/tokens.js'
import {FramedWriter, writeFileAtomically, shardName, writeShards, type SinkProgress} from '../../node/datasets/sink.js'
import {formatProblems} from '../report.js'

export const exportUsage = `Usage: tagpress export <blocks|chapters|qa|litgpt|text> [options]

Streams the built datasets (building first when the sources changed), one
record a line, in constant memory. Records go to stdout unless -o is given.

  --filter KEY=VALUE   keep matching records; repeat to combine (same key: any of them; different keys: all)
                         chapter=1.2      section 1.2 and its subsections
                         file=guide/*     files by glob on the file id (a folder matches its whole tree)
                         tag=x            files tagged x in their front matter
                         kind=code        a block kind, or qa|blocks|chapters in litgpt and text
                         id=ID            one record
  --format FMT         jsonl (records as they are), json (one array), alpaca (instruction records),
                       chat (messages), text (plain text documents); default: jsonl, for litgpt alpaca, for text text
  --shard-size N       split into shards of N records (or of a size: 64MB, 1GB) named like
                       Hugging Face datasets: train-00000-of-00004.jsonl; -o names the folder
  --split NAME         shard name prefix (default: train)
  --gzip               compress (files get .gz)
  -o, --output PATH    a file, a folder for shards, or - for stdout (default)
  --no-build           use out/datasets as they are
  --content DIR, --out DIR, --config FILE   as for build
  -h, --help           this help
`

/** `tagpress export …`: the datasets as a stream, filtered and converted, to stdout, a file or shards. */
export async function runExport(args: string[]): Promise<number> {
  const {values, positionals} = parseArgs({
    args,
    options: {
      filter: {type: 'string', multiple: true},
      format: {type: 'string'},
      'shard-size': {type: 'string'},
      split: {type: 'string'},
      gzip: {type: 'boolean'},
      output: {type: 'string', short: 'o'},
      'no-build': {type: 'boolean'},
      content: {type: 'string'},
      out: {type: 'string'},
      config: {type: 'string'},
      help: {type: 'boolean', short: 'h'}
    },
    allowPositionals: true,
    strict: true
  })
  if (values.help) {
    process.stdout.write(exportUsage)
    return 0
  }
  if (positionals.length > 1) throw new UserError('Export one dataset at a time, not ' + positionals.join(' '))
  const dataset = checkDataset(positionals[0])
  const format = checkFormat(values.format, dataset)
  const filters = (values.filter ?? []).map(parseFilter)
  const shard = values['shard-size'] === undefined ? undefined : parseSize(values['shard-size'])
  const output = values.output === '-' ? undefined : values.output
  const gzip = values.gzip === true
  if (shard && !output) throw new UserError('--shard-size writes files: name their folder with -o DIR')
  if (values.split !== undefined && !/^[A-Za-z0-9_.]+$/.test(values.split)) throw new UserError('--split must be a plain name like train or validation')
  if (!output && gzip && process.stdout.isTTY) throw new UserError('Not writing gzip to a terminal: pipe it or use -o FILE')

  const config = await loadConfig(process.cwd(), {
    ...(values.config ? {config: values.config} : {}),
    ...(values.content ? {content: values.content} : {}),
    ...(values.out ? {out: values.out} : {})
  })
  const datasetsDir = path.join(config.out, 'datasets')
  if (!values['no-build'] && existsSync(config.content)) {
    // A no-op when nothing changed since the last build; loaded only then (an export alone stays small).
    const {build} = await import('../../node/build/build.js')
    const result = await build(config, {progress: new Progress()})
    if (result.problems.length > 0) process.stderr.write(formatProblems(result.problems, config.content) + '\n')
    if (!result.ok) process.stderr.write(`tagpress: ${result.stats.errors} file${result.stats.errors === 1 ? '' : 's'} with errors: exporting their last good output\n`)
  } else if (!existsSync(datasetsDir)) {
    throw new UserError('No datasets in ' + path.relative(process.cwd(), datasetsDir) + ' and no content folder to build them from')
  }

  const progress = new StreamProgress('exporting')
  const onBatch = (done: SinkProgress): void => progress.update(done.records, done.bytes)
  const batches = exportBatches({
    datasetsDir,
    dataset,
    filters,
    format,
    kinds: config.litgpt.kinds,
    // Only text needs it, and it may read a large tokenizer.json.
    ...(format === 'text' ? {separator: textSeparator(config.litgpt.tokenizer)} : {}),
    passThrough: !shard
  })
  const frame = framing(format)
  try {
    if (shard && output) {
      const {files, progress: done} = await writeShards(batches, frame, {dir: output, split: values.split ?? 'train', ...shard, gzip, onBatch})
      progress.done()
      process.stderr.write(`tagpress: exported ${done.records} records into ${files.length} shard${files.length === 1 ? '' : 's'} in ${output}\n`)
    } else if (output) {
      const file = existsSync(output) && statSync(output).isDirectory() ? path.join(output, shardName(values.split ?? 'train', 0, 1, frame.extension, false)) : output
      const target = gzip && !file.endsWith('.gz') ? file + '.gz' : file
      const done = await writeFileAtomically(batches, target, frame, {gzip, onBatch})
      progress.done()
      process.stderr.write(`tagpress: exported ${done.records} records to ${target}\n`)
    } else {
      await toStdout(batches, frame, gzip, onBatch)
      progress.done()
    }
  } catch (error) {
    progress.done()
    if ((error as Error).message === 'The output was closed' || (error as NodeJS.ErrnoException).code === 'EPIPE') return 0
    throw error
  }
  return 0
}

/** Records to stdout with backpressure; a reader that goes away (`| head`) ends the export quietly. */
async function toStdout(batches: AsyncGenerator<Batch>, frame: ReturnType<typeof framing>, gzip: boolean, onBatch: (done: SinkProgress) => void): Promise<void> {
  const stdout = process.stdout
  let closed = false
  const onError = (error: NodeJS.ErrnoException): void => {
    if (error.code === 'EPIPE') closed = true
  }
  stdout.on('error', onError)
  const writer = new FramedWriter(stdout, frame, {gzip})
  try {
    await writer.begin()
    for await (const batch of batches) {
      if (closed) break
      await writer.write(batch)
      onBatch(writer.progress)
    }
    if (!closed) await writer.end(false)
  } catch (error) {
    if (closed) return
    throw error
  } finally {
    await batches.return(undefined)
  }
}

/** `1000` records, or a size: `64MB`, `1.5GB`, `512KB`. */
function parseSize(value: string): {records: number} | {bytes: number} {
  const match = /^(\d+(?:\.\d+)?)\s*(k|kb|m|mb|g|gb)?$/i.exec(value.trim())
  if (!match) throw new UserError('--shard-size must be a number of records (10000) or a size (64MB), not `' + value + '`')
  const number = Number(match[1])
  const unit = match[2]?.toLowerCase()
  if (!unit) {
    if (!Number.isInteger(number) || number < 1) throw new UserError('--shard-size must be a whole number of records, at least 1')
    return {records: number}
  }
  const scale = unit.startsWith('k') ? 1e3 : unit.startsWith('m') ? 1e6 : 1e9
  return {bytes: Math.max(1, Math.round(number * scale))}
}
