import path from 'node:path'
import type {SourceMessages} from '../node/build/build.js'

/**
 * `content/guide/intro.md:3:1: Expected a closing … [TP001]`, one line per
 * message, paths relative to the working directory (editors can jump to them).
 */
export function formatProblems(problems: readonly SourceMessages[], contentDir: string, cwd = process.cwd()): string {
  const lines: string[] = []
  for (const {source, messages} of problems) {
    const file = path.relative(cwd, path.join(contentDir, source)) || source
    for (const message of messages) {
      const kind = message.fatal ? '' : 'warning: '
      lines.push(file + ':' + message.line + ':' + message.column + ': ' + kind + message.reason + ' [' + message.code + ']')
    }
  }
  return lines.join('\n')
}

/** The same, as JSON for editors and CI: one object per message with an absolute path. */
export function problemsJson(problems: readonly SourceMessages[], contentDir: string): string {
  const items = problems.flatMap(({source, messages}) =>
    messages.map((message) => ({file: path.join(contentDir, source), source, severity: message.fatal ? 'error' : 'warning', ...message}))
  )
  return JSON.stringify({errors: items.filter((item) => item.fatal).length, messages: items}, null, 2)
}
