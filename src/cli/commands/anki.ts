import {createWriteStream, mkdirSync, renameSync, rmSync} from 'node:fs'
import path from 'node:path'
import {parseArgs} from 'node:util'
import {UserError} from '../../node/errors.js'
import {asideName} from '../../node/fs/atomic.js'

const usage = `Usage:
  tagpress anki import DECK.apkg [-o FILE.jsonl] [--text]

Read an Anki package (made by tagpress, genanki or Anki itself) into JSONL,
one note a line: {"instruction","question","answer_intro","answer",
"parent_ref","deck","tags","guid","notetype"}, fields read by name (note types
other than "tagpress Q&A" also get "fields": every field by name).

Options:
  -o, --out FILE   write to FILE (replaced atomically) instead of standard output
  --text           fields as plain text instead of HTML
  -h, --help       this help
`

/** `tagpress anki …`: `import` reads a deck back into training records. */
export async function runAnki(args: string[]): Promise<number> {
  const [command, ...rest] = args
  if (!command || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(usage)
    return command ? 0 : 2
  }
  if (command !== 'import') throw new UserError('Unknown command `tagpress anki ' + command + '`; expected `tagpress anki import DECK.apkg [-o FILE.jsonl]`')
  const {values, positionals} = parseArgs({
    args: rest,
    options: {out: {type: 'string', short: 'o'}, text: {type: 'boolean'}, help: {type: 'boolean', short: 'h'}},
    allowPositionals: true,
    strict: true
  })
  if (values.help) {
    process.stdout.write(usage)
    return 0
  }
  if (positionals.length !== 1) throw new UserError('Expected one deck file: `tagpress anki import DECK.apkg [-o FILE.jsonl]`')
  const {readDeck} = await import('../../node/anki/reader.js')
  const records = readDeck(positionals[0] as string, {text: values.text === true})
  if (!values.out) {
    const {count, closed} = await writeRecords(records, process.stdout)
    if (!closed) process.stderr.write('tagpress: read ' + count + ' note' + (count === 1 ? '' : 's') + '\n')
    return 0
  }
  const target = path.resolve(values.out)
  mkdirSync(path.dirname(target), {recursive: true})
  const aside = asideName(target)
  const stream = createWriteStream(aside)
  try {
    const {count} = await writeRecords(records, stream)
    await new Promise<void>((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve())))
    renameSync(aside, target)
    process.stderr.write('tagpress: wrote ' + count + ' note' + (count === 1 ? '' : 's') + ' to ' + values.out + '\n')
    return 0
  } catch (error) {
    stream.destroy()
    rmSync(aside, {force: true})
    throw error
  }
}

/** One JSON line per record, waiting for the stream to drain: memory stays flat however large the deck. */
async function writeRecords(records: AsyncIterable<unknown>, stream: NodeJS.WritableStream): Promise<{count: number; closed: boolean}> {
  let count = 0
  let failed: Error | undefined
  const onError = (error: Error) => {
    failed = error
  }
  stream.on('error', onError)
  try {
    for await (const record of records) {
      if (failed) break
      count++
      if (!stream.write(JSON.stringify(record) + '\n')) {
        await new Promise<void>((resolve) => {
          const done = () => {
            stream.off('drain', done)
            stream.off('error', done)
            resolve()
          }
          stream.on('drain', done)
          stream.on('error', done)
        })
      }
    }
  } finally {
    stream.off('error', onError)
  }
  // A reader that went away (`| head`) is not an error.
  if (failed && (failed as NodeJS.ErrnoException).code !== 'EPIPE') throw new UserError('Cannot write the records: ' + failed.message)
  return {count, closed: failed !== undefined}
}
