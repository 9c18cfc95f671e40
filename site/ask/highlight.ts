/**
 * A light highlighter for code in answers: comments, strings, numbers,
 * keywords, constants, function names, shell flags and diff lines, for the
 * languages models write most. Tokens use the theme's `sk-*` classes
 * (code-tokens.css), so answers match the page's own code in both schemes.
 * Unknown languages stay plain.
 */

/** A piece of code and its class (`''` for plain text). */
export type Token = [cls: string, text: string]

interface Grammar {
  comment: string
  strings: string
  keywords: Set<string>
  shell?: boolean
  caseless?: boolean
}

const C_COMMENT = '\\/\\/[^\\n]*|\\/\\*[\\s\\S]*?(?:\\*\\/|$)'
const HASH_COMMENT = '#[^\\n]*'
const QUOTED = '"(?:\\\\[\\s\\S]|[^"\\\\\\n])*"?|\'(?:\\\\[\\s\\S]|[^\'\\\\\\n])*\'?'
const TICKED = QUOTED + '|`(?:\\\\[\\s\\S]|[^`\\\\])*`?'

const words = (text: string): Set<string> => new Set(text.split(' '))

const JS = words('as async await break case catch class const continue debugger declare default delete do else enum export extends finally for from function get if implements import in instanceof interface let new of private protected public readonly return satisfies set static super switch this throw try type typeof var void while with yield')
const PY = words('and as assert async await break class continue def del elif else except finally for from global if import in is lambda match nonlocal not or pass raise return self try while with yield')
const SH = words('case cd do done echo elif else esac exit export fi for function if in local read return set shift source then unset until while')
const GO = words('break case chan const continue default defer else fallthrough for func go goto if import interface map package range return select struct switch type var')
const RS = words('as async await break const continue crate dyn else enum extern fn for if impl in let loop match mod move mut pub ref return self Self static struct super trait type unsafe use where while')
const C = words('abstract auto bool break case catch char class const continue default delete do double else enum extends extern final float for fun goto if implements import include int interface long namespace new override package private protected public register return short signed sizeof static struct super switch template this throw throws try typedef union unsigned using val var virtual void volatile when while')
const SQL = words('add all alter and as asc by case create delete desc distinct drop else end exists from group having in index inner insert into is join key left like limit not null on or order outer primary references right select set table then union unique update values when where with')

const GRAMMARS: Record<string, Grammar> = {
  js: {comment: C_COMMENT, strings: TICKED, keywords: JS},
  json: {comment: C_COMMENT, strings: QUOTED, keywords: new Set()},
  py: {comment: HASH_COMMENT, strings: QUOTED, keywords: PY},
  sh: {comment: '(?:^|(?<=\\s))#[^\\n]*', strings: TICKED, keywords: SH, shell: true},
  go: {comment: C_COMMENT, strings: TICKED, keywords: GO},
  rs: {comment: C_COMMENT, strings: QUOTED, keywords: RS},
  c: {comment: C_COMMENT, strings: QUOTED, keywords: C},
  sql: {comment: '--[^\\n]*', strings: QUOTED, keywords: SQL, caseless: true},
  yaml: {comment: HASH_COMMENT, strings: QUOTED, keywords: new Set()},
}

const ALIASES: Record<string, string> = {
  javascript: 'js', mjs: 'js', cjs: 'js', jsx: 'js', ts: 'js', typescript: 'js', tsx: 'js', mts: 'js',
  jsonc: 'json', json5: 'json', jsonl: 'json',
  python: 'py', py3: 'py',
  bash: 'sh', shell: 'sh', zsh: 'sh', console: 'sh', shellsession: 'sh', powershell: 'sh', ps1: 'sh',
  golang: 'go', rust: 'rs',
  cpp: 'c', 'c++': 'c', h: 'c', hpp: 'c', cs: 'c', csharp: 'c', java: 'c', kotlin: 'c', kt: 'c', swift: 'c', scala: 'c',
  yml: 'yaml', toml: 'yaml', ini: 'yaml', dockerfile: 'sh', makefile: 'sh',
}

const CONSTANTS = words('true false null undefined None True False nil NaN Infinity')

/** Split code into classed tokens. */
export function highlight(code: string, lang: string): Token[] {
  const name = ALIASES[lang] ?? lang
  if (name === 'diff' || name === 'patch') return diff(code)
  const grammar = GRAMMARS[name]
  if (grammar === undefined) return [['', code]]
  const pattern = new RegExp(
    '(' + grammar.comment + ')|(' + grammar.strings + ')|(\\b(?:0[xob][\\da-f_]+|\\d[\\d_]*(?:\\.\\d+)?(?:e[+-]?\\d+)?)\\b)|' +
      (grammar.shell ? '((?:^|(?<=\\s))--?[\\w-]+|\\$\\{?\\w+\\}?)|' : '((?!))|') +
      '([A-Za-z_$][\\w$]*)(\\s*\\()?',
    'gim',
  )
  const tokens: Token[] = []
  let last = 0
  let lineStart = true
  const plain = (text: string): void => {
    if (text === '') return
    const previous = tokens[tokens.length - 1]
    if (previous !== undefined && previous[0] === '') previous[1] += text
    else tokens.push(['', text])
  }
  for (const match of code.matchAll(pattern)) {
    const at = match.index
    const between = code.slice(last, at)
    plain(between)
    if (between.includes('\n')) lineStart = true
    if (at === 0) lineStart = true
    last = at + match[0].length
    const [whole, comment, string, number, flag, word, call] = match
    if (comment !== undefined) tokens.push(['sk-comment', whole])
    else if (string !== undefined) tokens.push(['sk-string', whole])
    else if (number !== undefined) tokens.push(['sk-constant', whole])
    else if (flag !== undefined) tokens.push(['sk-parameter', whole])
    else if (word !== undefined) {
      const key = grammar.caseless ? word.toLowerCase() : word
      const first = grammar.shell && lineStart && /^\s*(?:\$\s*)?$/.test(between.slice(between.lastIndexOf('\n') + 1))
      const cls = grammar.keywords.has(key)
        ? 'sk-keyword'
        : CONSTANTS.has(word)
          ? 'sk-constant'
          : call !== undefined || first
            ? 'sk-function'
            : name === 'yaml' && /^\s*:/.test(code.slice(last))
              ? 'sk-keyword'
              : ''
      if (cls === '') plain(word)
      else tokens.push([cls, word])
      if (call !== undefined) plain(call)
    }
    lineStart = false
  }
  plain(code.slice(last))
  return tokens
}

function diff(code: string): Token[] {
  return code.split(/(?<=\n)/).map((line): Token => {
    const cls = line.startsWith('+') ? 'sk-inserted' : line.startsWith('-') ? 'sk-deleted' : line.startsWith('@@') ? 'sk-changed' : ''
    return [cls, line]
  })
}
