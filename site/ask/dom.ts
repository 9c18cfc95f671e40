/**
 * Markdown blocks (markdown.ts) to DOM nodes. Every piece of the model's text
 * goes in through `textContent` / text nodes: nothing it writes can become
 * markup, load a resource or link anywhere but this site. Links: citations
 * `[§n]` become links to the section's `href` from the sources the server
 * sent (root-relative, our own pages); `[text](#anchor)` links only when the
 * anchor exists on this page; every other link is its text.
 */
import {h, icon} from './h'
import {highlight} from './highlight'
import type {Block, Inline} from './markdown'
import type {Source} from './types'

export interface RenderContext {
  /** The source a citation label stands for, if the server sent one. */
  source(label: string): Source | undefined
}

export function renderBlocks(blocks: Block[], context: RenderContext): DocumentFragment {
  const fragment = document.createDocumentFragment()
  for (const block of blocks) fragment.append(renderBlock(block, context))
  return fragment
}

function renderBlock(block: Block, context: RenderContext): HTMLElement {
  switch (block.t) {
    case 'p':
      return inlines(h('p'), block.c, context)
    case 'h':
      // The panel's own title is an h2 and each question an h3: answer headings come below.
      return inlines(h(block.level <= 1 ? 'h4' : block.level === 2 ? 'h5' : 'h6', {class: 'tp-ask-h'}), block.c, context)
    case 'hr':
      return h('hr')
    case 'quote': {
      const quote = h('blockquote')
      quote.append(renderBlocks(block.c, context))
      return quote
    }
    case 'code':
      return codeBlock(block.v, block.lang)
    case 'list': {
      const list = block.ordered ? h('ol', block.start !== 1 ? {start: block.start} : null) : h('ul')
      for (const item of block.items) {
        const li = h('li')
        for (const child of item) {
          if (block.tight && child.t === 'p') {
            if (li.childNodes.length > 0) li.append(h('br'))
            inlines(li, child.c, context)
          } else {
            li.append(renderBlock(child, context))
          }
        }
        list.append(li)
      }
      return list
    }
    case 'table': {
      const row = (cells: Inline[][], tag: 'th' | 'td'): HTMLTableRowElement => {
        const tr = h('tr')
        cells.forEach((cell, index) => {
          const element = inlines(h(tag), cell, context)
          const align = block.align[index]
          if (align) element.style.textAlign = align
          tr.append(element)
        })
        return tr
      }
      const body = h('tbody')
      for (const cells of block.rows) body.append(row(cells, 'td'))
      return h('div', {class: 'tp-ask-table', tabindex: 0, role: 'group', 'aria-label': 'Table'}, h('table', null, h('thead', null, row(block.head, 'th')), body))
    }
  }
}

/** A code block with its language and a copy button (the panel copies on click). */
export function codeBlock(code: string, lang: string): HTMLElement {
  const content = h('code')
  for (const [cls, text] of highlight(code, lang)) content.append(cls === '' ? text : h('span', {class: cls}, text))
  return h(
    'div',
    {class: 'tp-ask-code', 'data-lang': lang || undefined},
    h('div', {class: 'tp-ask-code-bar'},
      h('span', {class: 'tp-ask-code-lang'}, lang || 'code'),
      h('button', {type: 'button', class: 'tp-ask-copy', 'data-act': 'copy-code', 'aria-label': 'Copy code' + (lang ? ' (' + lang + ')' : '')}, icon('copy'), h('span', {'aria-hidden': 'true'}, 'Copy'))),
    h('pre', {tabindex: 0}, content),
  )
}

function inlines<E extends HTMLElement>(parent: E, nodes: Inline[], context: RenderContext): E {
  for (const node of nodes) {
    switch (node.t) {
      case 'text':
        parent.append(node.v)
        break
      case 'code':
        parent.append(h('code', null, node.v))
        break
      case 'br':
        parent.append(h('br'))
        break
      case 'em':
      case 'strong':
      case 'del':
        parent.append(inlines(h(node.t), node.c, context))
        break
      case 'link': {
        const id = node.href.startsWith('#') ? safeDecode(node.href.slice(1)) : ''
        const target = id === '' ? null : document.getElementById(id)
        if (target !== null && target.closest('.tp-ask') === null) parent.append(inlines(h('a', {href: '#' + encodeURIComponent(id), class: 'tp-ask-anchor', 'data-anchor': id}), node.c, context))
        else inlines(parent, node.c, context) // not ours: the text only
        break
      }
      case 'cite':
        for (const label of node.labels) {
          const source = context.source(label)
          if (source === undefined || !ownHref(source.href)) {
            parent.append('[§' + label + ']') // a label the server did not give: shown as written, not a link
            continue
          }
          const where = source.path && source.path !== source.title ? source.path : source.title
          parent.append(
            h('a', {class: 'tp-ask-cite', href: source.href, 'data-label': label, title: where},
              '§' + label, h('span', {class: 'tp-sr-only'}, ': ' + (source.title || source.page))),
          )
        }
        break
    }
  }
  return parent
}

/** A root-relative URL on this site (not `//host`, not a scheme). */
export function ownHref(href: string): boolean {
  return href.startsWith('/') && !href.startsWith('//') && !href.startsWith('/\\')
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}
