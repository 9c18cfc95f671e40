/** Text helpers for search results: excerpts and <mark> highlighting. */

const SPECIAL = /[.*+?^${}()|[\]\\]/g

/** One case-insensitive regex matching any of the terms (longest first). */
export function highlighter(terms: string[]): RegExp | null {
  const unique = new Set<string>()
  for (const term of terms) {
    const t = term.trim().toLowerCase()
    if (t.length > 1) unique.add(t)
  }
  if (unique.size === 0) return null
  const sorted = [...unique].sort((a, b) => b.length - a.length).map((t) => t.replace(SPECIAL, '\\$&'))
  return new RegExp(sorted.join('|'), 'giu')
}

/** About 180 characters of `text` around its first match, cut at spaces. */
export function excerpt(text: string, re: RegExp | null, size = 180): string {
  if (text.length <= size) return text
  let at = 0
  if (re !== null) {
    re.lastIndex = 0
    const match = re.exec(text)
    if (match !== null) at = match.index
  }
  let start = Math.max(0, at - 50)
  if (start > 0) {
    const space = text.indexOf(' ', start)
    if (space !== -1 && space < at) start = space + 1
  }
  let end = Math.min(text.length, start + size)
  if (end < text.length) {
    const space = text.lastIndexOf(' ', end)
    if (space > at) end = space
  }
  return (start > 0 ? '…' : '') + text.slice(start, end) + (end < text.length ? '…' : '')
}

/** Fill `target` with `text`, wrapping matches in <mark>. */
export function highlight(target: HTMLElement, text: string, re: RegExp | null): void {
  if (re === null) {
    target.textContent = text
    return
  }
  let last = 0
  for (const match of text.matchAll(re)) {
    const at = match.index
    if (match[0] === '') continue
    if (at > last) target.append(text.slice(last, at))
    const mark = document.createElement('mark')
    mark.textContent = match[0]
    target.append(mark)
    last = at + match[0].length
  }
  if (last < text.length) target.append(text.slice(last))
}
