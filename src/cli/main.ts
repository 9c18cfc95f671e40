import {parseArgs} from 'node:util'
import {UserError} from '../node/errors.js'

const usage = `tagpress: one tagged Markdown source for a website, training corpora and decks

Usage:
  tagpress build [--content DIR] [--out DIR] [--config FILE] [--clean] [--stats]
  tagpress check [--content DIR] [--config FILE] [--format text|json]
  tagpress init [DIR]
  tagpress dev [--port N] [--host] [--open]      live preview (default port 5173)
  tagpress serve [--port N] [--host]             serve the built out/site/ (default port 4173)
  tagpress anki import DECK.apkg [-o FILE.jsonl]
  tagpress export <blocks|chapters|qa|litgpt|text> [options]   (tagpress export --help)
  tagpress mix A.jsonl:N B.jsonl:M [--seed S] [-o FILE]
  tagpress tree [--mongo URI] [--db NAME] [FILE_ID | NODE_ID | SESSION_ID]
  tagpress ask "QUESTION" --page FILE_ID [--session ID | --reply NODE_ID] [--site]
  tagpress sessions [list | show ID | rename ID TITLE | delete ID]
  tagpress export conversations [-o DIR]

Options of build and check:
  --content DIR   Markdown sources (default: content/)
  --out DIR       output folder (default: out/)
  --config FILE   config file (default: tagpress.config.json if present)
  --base PATH     site base path (overrides site.base)
  --mongo URI     also write the Q&A trees to this MongoDB (or set MONGODB_URI / mongo.uri)
  --db NAME       MongoDB database (default: tagpress)
  --clean         ignore the build cache
  --stats         print a JSON summary of the build on stdout
  --format FMT    check: text (default) or json
  --workers N     compile threads (default: one per core)
  -h, --help      this help
  -v, --version   the version
`

export const buildOptions = {
  content: {type: 'string'},
  mongo: {type: 'string'},
  db: {type: 'string'},
  out: {type: 'string'},
  config: {type: 'string'},
  base: {type: 'string'},
  clean: {type: 'boolean'},
  stats: {type: 'boolean'},
  format: {type: 'string'},
  workers: {type: 'string'},
  help: {type: 'boolean', short: 'h'}
} as const

export type CliValues = ReturnType<typeof parseBuild>['values']

function parseBuild(argv: string[]) {
  return parseArgs({args: argv, options: buildOptions, allowPositionals: false, strict: true})
}

/** Commands with their own options load their own module: `tagpress build` never loads the deck reader. */
const commands: Record<string, (args: string[]) => Promise<number>> = {
  build: async (args) => (await import('./commands/build.js')).runBuild(parseBuild(args).values, {write: true}),
  check: async (args) => (await import('./commands/build.js')).runBuild(parseBuild(args).values, {write: false}),
  init: async (args) => (await import('./commands/init.js')).runInit(args[0] ?? '.'),
  anki: async (args) => (await import('./commands/anki.js')).runAnki(args),
  export: async (args) =>
    args[0] === 'conversations'
      ? (await import('./commands/export-conversations.js')).runExportConversations(args.slice(1))
      : (await import('./commands/export.js')).runExport(args),
  mix: async (args) => (await import('./commands/mix.js')).runMix(args),
  // A session id (`s_…`) is a conversation; anything else a document tree (file or node id).
  tree: async (args) =>
    args.some((arg) => /^s_[0-9a-z]{8,40}$/.test(arg))
      ? (await import('./commands/sessions.js')).runConversationTree(args)
      : (await import('./commands/tree.js')).runTree(args),
  ask: async (args) => (await import('./commands/ask.js')).runAsk(args),
  sessions: async (args) => (await import('./commands/sessions.js')).runSessions(args),
  dev: async (args) => (await import('./commands/dev.js')).runDev(args),
  serve: async (args) => (await import('./commands/serve.js')).runServe(args)
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === '-v' || command === '--version') {
    const {toolVersion} = await import('../node/version.js')
    process.stdout.write(toolVersion + '\n')
    return 0
  }
  if (!command || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(usage)
    return command ? 0 : 2
  }
  const run = commands[command]
  if (!run) {
    process.stderr.write('tagpress: unknown command `' + command + '`\n\n' + usage)
    return 2
  }
  if ((command === 'build' || command === 'check') && (rest.includes('-h') || rest.includes('--help'))) {
    process.stdout.write(usage)
    return 0
  }
  try {
    return await run(rest)
  } catch (error) {
    // parseArgs rejects unknown options with a TypeError carrying a code.
    if ((error as {code?: string}).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write('tagpress ' + command + ': ' + (error as Error).message + '\n\n' + usage)
      return 2
    }
    throw error
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
