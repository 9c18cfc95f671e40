import type {Node} from 'unist'
import type {VFile} from 'vfile'

/**
 * The catalogue of tagpress messages: one stable code per rule, documented in
 * `docs/errors.md` with a fixture folder each under `test/fixtures/errors/`.
 */
export const rules = {
  'unclosed-tag': 'TP001',
  'stray-closer': 'TP002',
  'unbalanced-literal': 'TP003',
  'wrong-tag-form': 'TP004',
  'unanswered-question': 'TP005',
  'answer-without-question': 'TP006',
  'misplaced-in-heading': 'TP007',
  'topic-outside-heading': 'TP008',
  'answer-span': 'TP009',
  'heading-in-answer': 'TP010',
  'duplicate-id': 'TP011',
  'front-matter': 'TP012',
  'dead-link': 'TP013',
  'missing-asset': 'TP014',
  'duplicate-topic': 'TP015',
  'misplaced-marker': 'TP016'
} as const

export type RuleId = keyof typeof rules

/**
 * Report an error on a file: a fatal vfile message with a position, our rule
 * id and code, so the CLI can print `path:line:col: message [TP001]`.
 */
export function reportError(file: VFile, rule: RuleId, place: Node['position'], reason: string): void {
  const message = file.message(reason, {place, ruleId: rule, source: 'tagpress'})
  message.fatal = true
}

/** `[/Q]`, `[Q/]` or `[/Q/]` as an author writes it. */
export function tagText(name: string, kind: 'open' | 'close' | 'void', id?: string): string {
  if (kind === 'close') return '[' + name + '/]'
  return '[/' + name + (id ? '#' + id : '') + (kind === 'void' ? '/]' : ']')
}

/** `3:1` for a message that points at another place. */
export function where(node: Node): string {
  const start = node.position?.start
  return start ? start.line + ':' + start.column : '?'
}
