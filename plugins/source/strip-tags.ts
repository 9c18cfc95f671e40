import type {TagRange} from '../remark-tag/types.js'

/**
 * The source text of `[start, end)` without the tags that are syntax: the
 * "Markdown source with the tags removed" of every record. A tag alone on its
 * line takes its line with it (and one of the blank lines around it); a tag
 * at a line's end takes the space before it.
 */
export function stripTags(source: string, start: number, end: number, ranges: readonly TagRange[]): string {
  let result = ''
  let at = start
  for (const range of ranges) {
    if (range.end <= start) continue
    if (range.start >= end) break
    const from = Math.max(range.start, start)
    const to = Math.min(range.end, end)
    let cut = from
    let resume = to
    if (range.flow) {
      cut = lineStart(source, from)
      resume = lineEndAfter(source, to)
      // Blank line before and after: keep only one of them.
      if (isBlankLineBefore(source, cut) && isBlankLineAt(source, resume)) resume = lineEndAfter(source, resume)
    } else {
      const next = source.charCodeAt(to)
      const atLineEnd = Number.isNaN(next) || next === 10 || next === 13 || to >= end
      while (cut > at && isSpace(source.charCodeAt(cut - 1)) && (atLineEnd || isSpace(next))) cut--
    }
    if (cut > at) result += source.slice(at, cut)
    at = Math.max(at, resume)
  }
  if (at < end) result += source.slice(at, end)
  return result.replace(/\s+$/, '').replace(/^\s*\n/, '')
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9
}

function lineStart(source: string, offset: number): number {
  const newline = source.lastIndexOf('\n', offset - 1)
  return newline + 1
}

/** Offset just past the line ending of the line holding `offset` (or the end). */
function lineEndAfter(source: string, offset: number): number {
  const newline = source.indexOf('\n', offset)
  return newline === -1 ? source.length : newline + 1
}

function isBlankLineBefore(source: string, lineBegin: number): boolean {
  if (lineBegin === 0) return false
  const previous = lineStart(source, lineBegin - 1)
  return source.slice(previous, lineBegin).trim() === ''
}

function isBlankLineAt(source: string, offset: number): boolean {
  if (offset >= source.length) return true
  const newline = source.indexOf('\n', offset)
  return source.slice(offset, newline === -1 ? source.length : newline).trim() === ''
}
