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
// GFM changes block structure only through tables (`|`) and footnote definitions (`[^`); without
// either in the text, plain CommonMark finds the same blocks at the same places, several times faster.
const commonmark = unified().use(remarkParse).freeze()

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
    const children = ((tail.includes('|') || tail.includes('[^') ? parser : commonmark).parse(tail) as Root).children
    const final: AnswerBlock[] = []
    let cut = 0
    for (let index = 0; index < children.length; index++) {
      const node = children[index] as RootContent
      const next = children[index + 1]
      const start = node.position?.start.offset ?? 0
      const end = node.position?.end.offset ?? tail.length
      if (!next) {
        if (!all) break
        final.push({i: this.count++, md: tail.slice(start, end)})
        cut = tail.length
        break
      }
      const nextStart = next.position?.start.offset ?? end
      if (!all && !finished(node, tail.slice(start, end), tail.slice(end, nextStart))) break
      final.push({i: this.count++, md: tail.slice(start, end)})
      cut = nextStart
    }
    if (all) cut = tail.length
    this.frozen += cut
    return final
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
