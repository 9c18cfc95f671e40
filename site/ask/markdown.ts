/**
 * A small Markdown parser for what models write in answers: paragraphs,
 * headings, lists (nested, tight or loose), block quotes, fenced and indented
 * code, tables, thematic breaks; inline code, emphasis, strong, strikethrough,
 * hard breaks, citations `[§n]` (also `[§1, §2]`), links and images.
 *
 * It builds a plain tree and never HTML: `dom.ts` turns the tree into DOM
 * nodes with `textContent`, so no text of the model can become markup. Raw
 * HTML is text; images are their alt text; links keep only their text (the
 * renderer links `#anchors` of this page and nothing else); citations are
 * resolved against the sources the server sent.
 *
 * Not CommonMark-complete on purpose (no reference links, entities or HTML
 * blocks); unclosed emphasis or code stays literal text, which is also what a
 * block still being written shows.
 */

export type Inline =
  | {t: 'text'; v: string}
  | {t: 'code'; v: string}
  | {t: 'em' | 'strong' | 'del'; c: Inline[]}
  /** A model-written link: `href` is kept only to link `#anchors` of this page. */
  | {t: 'link'; c: Inline[]; href: string}
  | {t: 'cite'; labels: string[]; raw: string}
  | {t: 'br'}

export type Align = '' | 'left' | 'center' | 'right'

export type Block =
  | {t: 'p'; c: Inline[]}
  | {t: 'h'; level: number; c: Inline[]}
  | {t: 'code'; lang: string; v: string}
  | {t: 'list'; ordered: boolean; start: number; tight: boolean; items: Block[][]}
  | {t: 'quote'; c: Block[]}
  | {t: 'hr'}
  | {t: 'table'; align: Align[]; head: Inline[][]; rows: Inline[][][]}

const FENCE = /^( {0,3})(`{3,}|~{3,})\s*([^\s`]*)[^`]*$/
const ATX = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/
const HR = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/
const QUOTE = /^ {0,3}> ?/
const LIST = /^( {0,3})([-*+]|(\d{1,9})([.)]))([ \t]+|$)/
const SETEXT = /^ {0,3}(=+|-+)[ \t]*$/
const DELIMITER_ROW = /^ {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/

/** Parse Markdown into blocks. */
export function parseMarkdown(markdown: string): Block[] {
  return blocks(markdown.replace(/\r\n?/g, '\n').split('\n').map(expandTabs))
}

function expandTabs(line: string): string {
  if (!line.includes('\t')) return line
  let out = ''
  for (const char of line) out += char === '\t' ? ' '.repeat(4 - (out.length % 4)) : char
  return out
}

const isBlank = (line: string): boolean => line.trim() === ''
const indentOf = (line: string): number => line.length - line.trimStart().length

/** Whether a line starts a block that ends a paragraph. */
function interrupts(line: string): boolean {
  if (FENCE.test(line) || ATX.test(line) || HR.test(line) || QUOTE.test(line)) return true
  const list = LIST.exec(line)
  // Only a non-empty bullet item or an ordered item starting at 1 interrupts a paragraph.
  return list !== null && line.slice(list[0].length).trim() !== '' && (list[3] === undefined || list[3] === '1')
}

function blocks(lines: string[]): Block[] {
  const out: Block[] = []
  let i = 0
  while (i < lines.length) {
    const line = lines[i] as string
    if (isBlank(line)) {
      i++
      continue
    }
    let match: RegExpExecArray | null
    if ((match = FENCE.exec(line))) {
      const indent = (match[1] as string).length
      const fence = match[2] as string
      const close = new RegExp('^ {0,3}' + (fence[0] === '`' ? '`' : '~') + '{' + fence.length + ',}[ \\t]*$')
      const body: string[] = []
      i++
      while (i < lines.length && !close.test(lines[i] as string)) {
        const text = lines[i] as string
        body.push(text.slice(Math.min(indent, indentOf(text))))
        i++
      }
      if (i >= lines.length) while (body.length > 0 && isBlank(body[body.length - 1] as string)) body.pop() // a fence still being written
      i++ // the closing fence
      out.push({t: 'code', lang: (match[3] ?? '').toLowerCase(), v: body.join('\n')})
      continue
    }
    if ((match = ATX.exec(line))) {
      out.push({t: 'h', level: (match[1] as string).length, c: parseInline(match[2] ?? '')})
      i++
      continue
    }
    if (HR.test(line)) {
      out.push({t: 'hr'})
      i++
      continue
    }
    if (QUOTE.test(line)) {
      const body: string[] = []
      while (i < lines.length && !isBlank(lines[i] as string)) {
        const text = lines[i] as string
        if (QUOTE.test(text)) body.push(text.replace(QUOTE, ''))
        else if (body.length > 0 && !interrupts(text)) body.push(text) // lazy continuation
        else break
        i++
      }
      out.push({t: 'quote', c: blocks(body)})
      continue
    }
    if (LIST.test(line)) {
      i = list(lines, i, out)
      continue
    }
    if (indentOf(line) >= 4) {
      const body: string[] = []
      while (i < lines.length && (isBlank(lines[i] as string) || indentOf(lines[i] as string) >= 4)) body.push((lines[i++] as string).slice(4))
      while (body.length > 0 && isBlank(body[body.length - 1] as string)) body.pop()
      out.push({t: 'code', lang: '', v: body.join('\n')})
      continue
    }
    const next = lines[i + 1]
    if (line.includes('|') && next !== undefined && DELIMITER_ROW.test(next) && next.includes('-')) {
      const head = cells(line)
      const align = cells(next).map((cell): Align => {
        const left = cell.startsWith(':')
        const right = cell.endsWith(':')
        return left && right ? 'center' : right ? 'right' : left ? 'left' : ''
      })
      if (align.length === head.length) {
        const rows: Inline[][][] = []
        i += 2
        while (i < lines.length && !isBlank(lines[i] as string) && (lines[i] as string).includes('|') && !interrupts(lines[i] as string)) {
          const row = cells(lines[i] as string).slice(0, head.length)
          while (row.length < head.length) row.push('')
          rows.push(row.map(parseInline))
          i++
        }
        out.push({t: 'table', align, head: head.map(parseInline), rows})
        continue
      }
    }
    // A paragraph, or a setext heading.
    const para: string[] = [line.trimStart()]
    i++
    let level = 0
    while (i < lines.length && !isBlank(lines[i] as string)) {
      const text = lines[i] as string
      const setext = SETEXT.exec(text)
      if (setext && indentOf(text) < 4) {
        level = (setext[1] as string)[0] === '=' ? 1 : 2
        i++
        break
      }
      if (interrupts(text)) break
      para.push(text.trimStart())
      i++
    }
    const text = para.join('\n').replace(/[ \t]+$/, '')
    out.push(level > 0 ? {t: 'h', level, c: parseInline(text)} : {t: 'p', c: parseInline(text)})
  }
  return out
}

/** A list from line `i`; returns the index after it. */
function list(lines: string[], start: number, out: Block[]): number {
  const first = LIST.exec(lines[start] as string) as RegExpExecArray
  const ordered = first[3] !== undefined
  const kind = ordered ? first[4] : first[2]
  const items: string[][] = []
  let tight = true
  let i = start
  let blankBefore = false
  while (i < lines.length) {
    const line = lines[i] as string
    const match = LIST.exec(line)
    if (!match || (match[3] !== undefined) !== ordered || (ordered ? match[4] : match[2]) !== kind) break
    if (items.length > 0 && blankBefore) tight = false
    const spaces = (match[5] as string).length
    const rest = line.slice(match[0].length)
    // Content starts after the marker and its spaces (one space when the item is empty or starts with code).
    const contentIndent = (match[1] as string).length + (match[2] as string).length + (rest === '' || spaces > 4 ? 1 : spaces)
    const item: string[] = [line.slice(Math.min(contentIndent, line.length))]
    i++
    let blanks = 0
    while (i < lines.length) {
      const text = lines[i] as string
      if (isBlank(text)) {
        blanks++
        i++
        continue
      }
      if (indentOf(text) >= contentIndent) {
        if (blanks > 0) {
          for (let b = 0; b < blanks; b++) item.push('')
          tight = false
        }
        blanks = 0
        item.push(text.slice(contentIndent))
        i++
        continue
      }
      if (blanks === 0 && !interrupts(text) && !LIST.test(text)) {
        item.push(text.trimStart()) // lazy continuation of the item's paragraph
        i++
        continue
      }
      break
    }
    // Blank lines after an item make the list loose only if another item follows.
    blankBefore = blanks > 0
    items.push(item)
  }
  const parsed = items.map(blocks)
  // A marker just written, its text still to come: not an item yet.
  if (parsed.length > 0 && (parsed[parsed.length - 1] as Block[]).length === 0 && i >= lines.length) parsed.pop()
  if (parsed.length > 0) out.push({t: 'list', ordered, start: ordered ? Number(first[3]) : 1, tight, items: parsed})
  return i
}

/** The cells of a table row: split on `|` outside code spans and escapes, outer pipes dropped. */
function cells(row: string): string[] {
  let text = row.trim()
  if (text.startsWith('|')) text = text.slice(1)
  if (text.endsWith('|') && !text.endsWith('\\|')) text = text.slice(0, -1)
  const out: string[] = []
  let cell = ''
  let code = 0
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string
    if (char === '\\' && text[i + 1] === '|') {
      cell += '|'
      i++
    } else if (char === '`') {
      let run = 1
      while (text[i + run] === '`') run++
      code = code === run ? 0 : code === 0 ? run : code
      cell += '`'.repeat(run)
      i += run - 1
    } else if (char === '|' && code === 0) {
      out.push(cell.trim())
      cell = ''
    } else {
      cell += char
    }
  }
  out.push(cell.trim())
  return out
}

const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'
const CITE = /^\[§\s*(\d+)((?:\s*[,;]\s*§?\s*\d+)*)\]/
const AUTOLINK = /^<((?:https?|mailto|ftp):[^\s<>]*|[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+)>/i
const WORD = /[\p{L}\p{N}]/u

/** Parse inline Markdown. */
export function parseInline(source: string): Inline[] {
  const out: Inline[] = []
  let text = ''
  const flush = (): void => {
    if (text !== '') out.push({t: 'text', v: text})
    text = ''
  }
  const push = (node: Inline): void => {
    flush()
    out.push(node)
  }
  let i = 0
  while (i < source.length) {
    const char = source[i] as string
    if (char === '\\') {
      const next = source[i + 1]
      if (next === '\n') {
        push({t: 'br'})
        i += 2
        continue
      }
      if (next !== undefined && PUNCTUATION.includes(next)) {
        text += next
        i += 2
        continue
      }
    }
    if (char === '`') {
      const span = codeSpan(source, i)
      if (span) {
        push({t: 'code', v: span.text})
        i = span.end
      } else {
        let run = 1
        while (source[i + run] === '`') run++
        text += '`'.repeat(run)
        i += run
      }
      continue
    }
    if (char === '\n') {
      const hard = / {2,}$/.test(text)
      text = text.replace(/ +$/, '')
      if (hard) push({t: 'br'})
      else text += '\n'
      i++
      continue
    }
    if (char === '[') {
      const cite = CITE.exec(source.slice(i))
      if (cite) {
        const labels = [cite[1] as string, ...((cite[2] ?? '').match(/\d+/g) ?? [])]
        push({t: 'cite', labels, raw: cite[0]})
        i += cite[0].length
        continue
      }
      const link = linkAt(source, i)
      if (link) {
        push({t: 'link', c: parseInline(link.text), href: link.href})
        i = link.end
        continue
      }
    }
    if (char === '!' && source[i + 1] === '[') {
      const image = linkAt(source, i + 1)
      if (image) {
        // Images are never loaded: their alt text stands in.
        if (image.text !== '') push({t: 'text', v: image.text})
        i = image.end
        continue
      }
    }
    if (char === '<') {
      const auto = AUTOLINK.exec(source.slice(i))
      if (auto) {
        text += auto[1]
        i += auto[0].length
        continue
      }
    }
    if (char === '*' || char === '_' || char === '~') {
      const span = emphasis(source, i)
      if (span) {
        for (const node of span.nodes) push(node)
        i = span.end
        continue
      }
      let run = 1
      while (source[i + run] === char) run++
      text += char.repeat(run)
      i += run
      continue
    }
    text += char
    i++
  }
  flush()
  return out
}

/** A code span opening at `start`: the closing run of the same length, else none. */
function codeSpan(source: string, start: number): {text: string; end: number} | undefined {
  let run = 1
  while (source[start + run] === '`') run++
  let j = start + run
  while (j < source.length) {
    const at = source.indexOf('`', j)
    if (at === -1) return undefined
    let close = 1
    while (source[at + close] === '`') close++
    if (close === run) {
      let text = source.slice(start + run, at).replace(/\n/g, ' ')
      if (text.length > 2 && text.startsWith(' ') && text.endsWith(' ') && text.trim() !== '') text = text.slice(1, -1)
      return {text, end: at + close}
    }
    j = at + close
  }
  return undefined
}

/** `[text](href "title")` at `start`, with balanced brackets and parentheses. */
function linkAt(source: string, start: number): {text: string; href: string; end: number} | undefined {
  let depth = 0
  let j = start
  for (; j < source.length; j++) {
    const char = source[j]
    if (char === '\\') j++
    else if (char === '`') {
      const span = codeSpan(source, j)
      if (span) j = span.end - 1
    } else if (char === '[') depth++
    else if (char === ']' && --depth === 0) break
  }
  if (j >= source.length || source[j + 1] !== '(') return undefined
  let parens = 0
  let k = j + 2
  for (; k < source.length; k++) {
    const char = source[k]
    if (char === '\\') k++
    else if (char === '(') parens++
    else if (char === ')' && parens-- === 0) break
    else if (char === '\n' && source[k + 1] === '\n') return undefined
  }
  if (k >= source.length) return undefined
  const target = source.slice(j + 2, k).trim()
  const href = (/^<([^>]*)>/.exec(target)?.[1] ?? target.split(/\s+/)[0] ?? '').trim()
  return {text: source.slice(start + 1, j), href, end: k + 1}
}

/** Emphasis, strong or strikethrough opening at `start`, with its closing delimiter (surplus openers stay text). */
function emphasis(source: string, start: number): {nodes: Inline[]; end: number} | undefined {
  const char = source[start] as string
  let run = 1
  while (source[start + run] === char) run++
  const after = source[start + run]
  if (after === undefined || /\s/.test(after)) return undefined
  if (char === '_' && start > 0 && WORD.test(source[start - 1] as string)) return undefined
  if (char === '~') {
    if (run > 2) return undefined
    const close = findClose(source, start + run, char, run)
    return close === -1 ? undefined : {nodes: [{t: 'del', c: parseInline(source.slice(start + run, close))}], end: close + run}
  }
  for (let size = Math.min(run, 3); size >= 1; size--) {
    const close = findClose(source, start + run, char, size)
    if (close === -1) continue
    const inner = parseInline(source.slice(start + run, close))
    const node: Inline = size === 3 ? {t: 'strong', c: [{t: 'em', c: inner}]} : {t: size === 2 ? 'strong' : 'em', c: inner}
    return {nodes: size < run ? [{t: 'text', v: char.repeat(run - size)}, node] : [node], end: close + size}
  }
  return undefined
}

/**
 * The index of a closing run of `size` delimiters after `from`: not after
 * white space, not inside a code span or escaped; for `_`, not inside a word.
 * A longer run closes with its last delimiters (`**a *b***`), except that a
 * single delimiter passes over a pair (a nested strong: `*a **b** c*`).
 */
function findClose(source: string, from: number, char: string, size: number): number {
  for (let j = from; j < source.length; j++) {
    const at = source[j]
    if (at === '\\') {
      j++
      continue
    }
    if (at === '`') {
      const span = codeSpan(source, j)
      if (span) j = span.end - 1
      continue
    }
    if (at === '\n' && source[j + 1] === '\n') return -1
    if (at !== char) continue
    let run = 1
    while (source[j + run] === char) run++
    const next = source[j + run]
    const closes = j > from && !/\s/.test(source[j - 1] as string) && !(char === '_' && next !== undefined && WORD.test(next))
    if (closes && (run === size || (run > size && char !== '~' && !(size === 1 && run === 2)))) return j + run - size
    j += run - 1
  }
  return -1
}

/** The plain text of inline nodes (for copy, titles and announcements). */
export function inlineText(nodes: Inline[]): string {
  let text = ''
  for (const node of nodes) {
    if (node.t === 'text' || node.t === 'code') text += node.v
    else if (node.t === 'br') text += '\n'
    else if (node.t === 'cite') text += node.raw
    else text += inlineText(node.c)
  }
  return text
}

/** A short plain-text version of blocks, for screen-reader announcements. */
export function blocksText(blocks: Block[]): string {
  const parts: string[] = []
  for (const block of blocks) {
    if (block.t === 'p' || block.t === 'h') parts.push(inlineText(block.c))
    else if (block.t === 'code') parts.push('Code' + (block.lang ? ' (' + block.lang + ')' : '') + '.')
    else if (block.t === 'list') for (const item of block.items) parts.push(blocksText(item))
    else if (block.t === 'quote') parts.push(blocksText(block.c))
    else if (block.t === 'table') parts.push('A table.')
  }
  return parts.join(' ').replace(/\[§(\d+)\]/g, '(source $1)')
}
