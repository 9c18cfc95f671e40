import type {Parent} from 'mdast'

/**
 * Remove the container prefixes (`> ` of block quotes, the indent of list
 * items) from the continuation lines of text cut out of a container, so a
 * multi-line answer inside a quote reads as plain Markdown.
 */
export function dedentContinuation(text: string, ancestors: readonly Parent[]): string {
  if (!text.includes('\n')) return text
  const steps: Array<RegExp> = []
  for (const ancestor of ancestors) {
    if (ancestor.type === 'blockquote') steps.push(/^ {0,3}> ?/)
    else if (ancestor.type === 'listItem') {
      const indent = contentIndent(ancestor)
      if (indent > 0) steps.push(new RegExp('^ {0,' + indent + '}'))
    }
  }
  if (steps.length === 0) return text
  const lines = text.split('\n')
  for (let index = 1; index < lines.length; index++) {
    let line = lines[index] as string
    for (const step of steps) line = line.replace(step, '')
    lines[index] = line
  }
  return lines.join('\n')
}

/** Columns from a list item's marker to its content. */
function contentIndent(item: Parent): number {
  const first = item.children[0]
  const itemColumn = item.position?.start.column
  const contentColumn = first?.position?.start.column
  return itemColumn !== undefined && contentColumn !== undefined ? contentColumn - itemColumn : 0
}
