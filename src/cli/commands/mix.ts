import {parseArgs} from 'node:util'
import {UserError} from '../../node/errors.js'
import {framing} from '../../node/datasets/export.js'
import {mixBatches, parseMixSource} from '../../node/datasets/mix.js'
import {StreamProgress} from '../../node/datasets/progress.js'
import {FramedWriter, writeFileAtomically} from '../../node/datasets/sink.js'

export const mixUsage = `Usage: tagpress mix A.jsonl:5000 B.jsonl:5000 [C.jsonl ...] [options]

Takes N records from each source (FILE:N; FILE alone takes all of it), uniformly
at random without loading the files (reservoir sampling), and writes them in one
shuffled stream, one JSON object a line. The same seed gives the same output.
Sources may be .jsonl or .jsonl.gz; blank lines are skipped.

  --seed S           random seed (default: 42)
  --allow-short      take all of a source that has fewer records than asked (default: fail)
  --gzip             compress the output
  -o, --output FILE  write here (atomically) instead of stdout
  -h, --help         this help
`

/** `tagpress mix A.jsonl:5000 B.jsonl:5000 [--seed 1] [-o mixed.jsonl]`. */
export async function runMix(args: string[]): Promise<number> {
  const {values, positionals} = parseArgs({
    args,
    options: {
      seed: {type: 'string'},
      'allow-short': {type: 'boolean'},
      gzip: {type: 'boolean'},
      output: {type: 'string', short: 'o'},
      help: {type: 'boolean', short: 'h'}
    },
    allowPositionals: true,
    strict: true
  })
  if (values.help) {
    process.stdout.write(mixUsage)
    return 0
  }
  const seed = values.seed === undefined ? 42 : Number(values.seed)
  if (!Number.isSafeInteger(seed)) throw new UserError('--seed must be a whole number, not `' + values.seed + '`')
  if (positionals.length === 0) throw new UserError('Name the sources to mix: tagpress mix A.jsonl:5000 B.jsonl:5000')
  const sources = positionals.map(parseMixSource)
  const output = values.output === '-' ? undefined : values.output
  const gzip = values.gzip === true
  if (!output && gzip && process.stdout.isTTY) throw new UserError('Not writing gzip to a terminal: pipe it or use -o FILE')

  const progress = new StreamProgress('mixing')
  const batches = mixBatches({sources, seed, allowShort: values['allow-short'] === true, onProgress: (lines) => {
    if ((lines & 0xffff) === 0) progress.update(lines, 0, 'lines read')
  }})
  const frame = framing('jsonl')
  try {
    if (output) {
      const target = gzip && !output.endsWith('.gz') ? output + '.gz' : output
      const done = await writeFileAtomically(batches, target, frame, {gzip})
      progress.done()
      process.stderr.write(`tagpress: mixed ${done.records} records into ${target}\n`)
      return 0
    }
    let closed = false
    process.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') closed = true
    })
    const writer = new FramedWriter(process.stdout, frame, {gzip})
    try {
      for await (const batch of batches) {
        if (closed) break
        await writer.write(batch)
      }
      if (!closed) await writer.end(false)
    } catch (error) {
      if (!closed) throw error
    }
    progress.done()
    return 0
  } catch (error) {
    progress.done()
    throw error
  }
}
