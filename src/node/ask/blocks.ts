import type {Root, RootContent} from 'mdast'
import remarkGfm from 'remark-gfm'
import remarkParse from 'remark-parse'
import {unified} from 'unified'

/** One Markdown block of an answer: `i` counts from 0 in answer order. */
export interface AnswerBlock {
  i: number
  md: string
}

/** What changed with a piece of text: blocks that became final (never to change again) and the open tail. */
export interface BlockUpdate {
  final: AnswerBlock[]
  /** Everything after the last final block (may hold more than one block until they are known to be finished); null when empty. */
  open: AnswerBlock | null
}

// The same CommonMark + GFM parser the compiler starts from (model answers carry no tags).
const parser = unified().use(remarkParse).use(remarkGfm).freeze()
// GFM changes block structure only through tables (`|`, or a one-column table's delimiter row such as
// `:--` or `-:` with no pipe at all) and footnote definitions (`[^`); without them, plain CommonMark
// finds the same blocks at the same places, several times faster.
const commonmark = unified().use(remarkParse).freeze()
const gfmBlocks = /\||\[\^|^[ \t]*(?::-|-+:)/m

/**
 * Splits a growing Markdown answer into blocks with the project's parser.
 *
 * A block is final when a later block has begun and nothing more can join
 * it: a blank line separates them, or the block is one that ends by itself
 * (an ATX heading, a closed code fence, a thematic break). A paragraph
 * followed directly by another construct stays open until a blank line or
 * the end, because text still to come can merge them again (a fence opener
 * that turns out to be inline code, a table row, a setext underline).
 *
 * Final blocks are cut off the text: later parses see only the open tail, so
 * a final block cannot change by construction. Parsing the tail alone gives
 * the same block structure as parsing everything, because the cut is at the
 * start of a top-level block after a closed one.
 */
export class BlockSplitter {
  private text = ''
  /** Offset where the open tail starts. */
  private frozen = 0
  private count = 0

  /** The whole answer so far. */
  get answer(): string {
    return this.text
  }

  /** Final blocks so far. */
  get finalCount(): number {
    return this.count
  }

  /** Add text; returns what became final and the open tail. */
  push(chunk: string): BlockUpdate {
    this.text += chunk
    // A block can only end at a line break, and only where a boundary is possible: no need to parse otherwise.
    const final = chunk.includes('\n') && mayEnd(this.text, this.frozen) ? this.settle(false) : []
    return {final, open: this.open()}
  }

  /** The stream ended: every block is final. */
  finish(): BlockUpdate {
    return {final: this.settle(true), open: null}
  }

  /** The open tail as it stands. */
  open(): AnswerBlock | null {
    const md = this.text.slice(this.frozen).replace(/^(?:[ \t]*\r?\n)+/, '').trimEnd()
    return md === '' ? null : {i: this.count, md}
  }

  private settle(all: boolean): AnswerBlock[] {
    const tail = this.text.slice(this.frozen)
    const {blocks, cut} = (all ? undefined : plainParagraphs(tail)) ?? parsedBlocks(tail, all)
    this.frozen += cut
    return blocks.map(([start, end]) => ({i: this.count++, md: tail.slice(start, end)}))
  }
}

/** Where a tail's final blocks are (source ranges) and where the open part starts. */
export interface Settled {
  blocks: Array<[number, number]>
  cut: number
}

/** The final blocks of an open tail as the parser finds them (all of them when the stream has ended). */
export function parsedBlocks(tail: string, all: boolean): Settled {
  const children = ((gfmBlocks.test(tail) ? parser : commonmark).parse(tail) as Root).children
  const blocks: Array<[number, number]> = []
  let cut = 0
  for (let index = 0; index < children.length; index++) {
    const node = children[index] as RootContent
    const next = children[index + 1]
    const start = node.position?.start.offset ?? 0
    const end = node.position?.end.offset ?? tail.length
    if (!next) {
      if (!all) break
      blocks.push([start, end])
      cut = tail.length
      break
    }
    const nextStart = next.position?.start.offset ?? end
    if (!all && !finished(node, tail.slice(start, end), tail.slice(end, nextStart))) break
    blocks.push([start, end])
    cut = nextStart
  }
  return {blocks, cut: all ? tail.length : cut}
}

// A line that starts with a letter or a digit (not a list's `1.`/`1)`) opens no block and interrupts no paragraph.
const plainLine = /^[ \t]*(?![0-9]{1,9}[.)])[\p{L}\p{N}]/u

/**
 * The parse of the commonest tail, without parsing: paragraphs of plain lines
 * separated by blank lines, then the first line of a next block at column 1.
 * The parser would find exactly those paragraphs, each final (a blank line
 * ends a paragraph, and no line of theirs can start a container, a fence or
 * a table), and cut at the next block. This matters because model answers
 * are mostly prose and micromark takes ~0.3 ms per paragraph: 50 streams
 * reaching a paragraph break together would delay each other by 15 ms.
 * (A paragraph with nothing after it yet is not final: none, cut 0.)
 * Anything else (a line with another start, indentation, `\r`) returns
 * undefined and the parse decides.
 */
export function plainParagraphs(tail: string): Settled | undefined {
  if (tail.includes('\r')) return undefined
  const blocks: Array<[number, number]> = []
  const lineEnd = (from: number): number => {
    const newline = tail.indexOf('\n', from)
    return newline < 0 ? tail.length : newline
  }
  const blank = (from: number): boolean => /^[ \t]*$/.test(tail.slice(from, lineEnd(from)))
  let at = 0
  // Blank lines before the first block belong to no block.
  while (at < tail.length && blank(at) && lineEnd(at) < tail.length) at = lineEnd(at) + 1
  for (;;) {
    // Every block, the open one too, a paragraph from column 1 (else the parser may find more final blocks).
    const first = tail.slice(at, lineEnd(at))
    if (!/^[\p{L}\p{N}]/u.test(first) || /^[0-9]{1,9}[.)]/.test(first)) return undefined
    const start = at
    let end = lineEnd(at)
    // The paragraph's lines, up to a blank line.
    for (;;) {
      if (end >= tail.length) return {blocks, cut: blocks.length > 0 ? start : 0}
      at = end + 1
      if (blank(at)) break
      if (!plainLine.test(tail.slice(at, lineEnd(at)))) return undefined
      end = lineEnd(at)
    }
    // Skip the blank lines; the text after them (if any) starts the next block.
    while (blank(at)) {
      if (lineEnd(at) >= tail.length) return {blocks, cut: blocks.length > 0 ? start : 0}
      at = lineEnd(at) + 1
    }
    if (!/^[\p{L}\p{N}]/u.test(tail.slice(at, at + 2))) return undefined
    blocks.push([start, end])
  }
}

const fenceOpen = /^ {0,3}(`{3,}|~{3,})/

/**
 * Whether the open tail can hold a finished block followed by another: a
 * blank line, or a first line that is a block by itself (ATX heading,
 * thematic break), or a code fence that has closed. An unclosed fence is
 * one block whatever it holds, so a long code block is not parsed again at
 * every line. (A cheap test; the parse decides.)
 */
function mayEnd(text: string, from: number): boolean {
  const tail = text.slice(from).replace(/^(?:[ \t]*\r?\n)+/, '')
  const newline = tail.indexOf('\n')
  if (newline < 0) return false
  const opener = fenceOpen.exec(tail)
  if (opener) {
    const fence = opener[1] as string
    const closing = new RegExp('\\n {0,3}' + (fence[0] === '`' ? '`' : '~') + '{' + fence.length + ',}[ \\t]*(?:\\r?\\n|$)')
    return closing.test(tail.slice(newline))
  }
  if (/\n[ \t]*\r?\n/.test(tail)) return true
  const first = tail.slice(0, newline)
  return /^ {0,3}#{1,6}(?:[ \t]|$)/.test(first) || /^ {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$/.test(first)
}

function finished(node: RootContent, source: string, gap: string): boolean {
  if (/\n[ \t]*\r?\n/.test(gap)) return true
  // Blocks that end by themselves, followed by another block: nothing can join them.
  if (node.type === 'heading') return !source.includes('\n')
  if (node.type === 'code' || node.type === 'thematicBreak') return true
  return false
}

/** Split a whole (finished) answer into its blocks, as a stream of it would end. */
export function splitAnswer(text: string): AnswerBlock[] {
  const splitter = new BlockSplitter()
  const first = splitter.push(text)
  return [...first.final, ...splitter.finish().final]
}
