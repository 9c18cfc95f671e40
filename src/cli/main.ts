import {parseArgs} from 'node:util'
import {UserError} from '../node/errors.js'
import {runBuild} from './commands/build.js'
import {runInit} from './commands/init.js'

const usage = `tagpress: one tagged Markdown source for a website, training corpora and decks

Usage:
  tagpress build [--content DIR] [--out DIR] [--config FILE] [--clean] [--stats]
  tagpress check [--content DIR] [--config FILE] [--format text|json]
  tagpress init [DIR]

Options:
  --content DIR   Markdown sources (default: content/)
  --out DIR       output folder (default: out/)
  --config FILE   config file (default: tagpress.config.json if present)
  --base PATH     site base path (overrides site.base)
  --clean         ignore the build cache
  --stats         print a JSON summary of the build on stdout
  --format FMT    check: text (default) or json
  --workers N     compile threads (default: one per core)
  -h, --help      this help
  -v, --version   the version
`

const options = {
  content: {type: 'string'},
  out: {type: 'string'},
  config: {type: 'string'},
  base: {type: 'string'},
  clean: {type: 'boolean'},
  stats: {type: 'boolean'},
  format: {type: 'string'},
  workers: {type: 'string'},
  help: {type: 'boolean', short: 'h'},
  version: {type: 'boolean', short: 'v'}
} as const

export type CliValues = ReturnType<typeof parse>['values']

function parse(argv: string[]) {
  return parseArgs({args: argv, options, allowPositionals: true, strict: true})
}

async function main(argv: string[]): Promise<number> {
  let parsed
  try {
    parsed = parse(argv)
  } catch (error) {
    process.stderr.write('tagpress: ' + (error as Error).message + '\n\n' + usage)
    return 2
  }
  const {values, positionals} = parsed
  if (values.version) {
    const {toolVersion} = await import('../node/version.js')
    process.stdout.write(toolVersion + '\n')
    return 0
  }
  const [command, ...rest] = positionals
  if (values.help || !command) {
    process.stdout.write(usage)
    return values.help ? 0 : 2
  }
  switch (command) {
    case 'build':
      return runBuild(values, {write: true})
    case 'check':
      return runBuild(values, {write: false})
    case 'init':
      return runInit(rest[0] ?? '.')
    default:
      process.stderr.write('tagpress: unknown command `' + command + '`\n\n' + usage)
      return 2
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    if (error instanceof UserError) process.stderr.write('tagpress: ' + error.message + '\n')
    else if (process.env.TAGPRESS_DEBUG) process.stderr.write(String((error as Error).stack ?? error) + '\n')
    else {
      process.stderr.write('tagpress: internal error: ' + ((error as Error).message ?? String(error)) + '\n(run with TAGPRESS_DEBUG=1 for details)\n')
    }
    process.exitCode = error instanceof UserError ? 2 : 70
  }
)
