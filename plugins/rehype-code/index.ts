import type {Element, ElementContent, Root, Text} from 'hast'
import type {Raw} from 'mdast-util-to-hast'
import {walkElements} from '../hast-walk.js'

/**
 * Turns code into a highlighted `<pre>`: hast, or HTML as a string (inserted raw);
 * undefined when the language is unknown.
 */
export type Highlight = (code: string, lang: string) => Promise<Element | string | undefined> | Element | string | undefined

export interface Options {
  /** The highlighter (tagpress passes shiki); without it code is only wrapped. */
  highlight?: Highlight | null | undefined
}

/**
 * Wrap each code block in `<div class="tp-code" data-lang="…">` (the theme
 * adds the copy button and label there) and replace its `<pre>` with the
 * highlighter's output, at build time.
 */
export default function rehypeCode(options?: Options | null) {
  const highlight = options?.highlight
  return async (tree: Root): Promise<undefined> => {
    const jobs: Array<{parent: Root | Element; index: number; pre: Element; lang: string | undefined}> = []
    walkElements(tree, (node, parent, index) => {
      if (node.tagName !== 'pre') return
      const code = node.children[0]
      if (!code || code.type !== 'element' || code.tagName !== 'code') return
      jobs.push({parent, index, pre: node, lang: language(code)})
      return false
    })
    for (const {parent, index, pre, lang} of jobs) {
      let result: Element | Raw = pre
      if (lang && highlight) {
        const highlighted = await highlight(textOf(pre), lang)
        if (typeof highlighted === 'string') result = {type: 'raw', value: highlighted}
        else if (highlighted) result = highlighted
      }
      const wrapper: Element = {
        type: 'element',
        tagName: 'div',
        properties: {className: ['tp-code'], ...(lang ? {dataLang: lang} : {})},
        children: [result as ElementContent]
      }
      if (pre.position) wrapper.position = pre.position
      parent.children[index] = wrapper
    }
  }
}

function language(code: Element): string | undefined {
  const classes = code.properties.className
  if (!Array.isArray(classes)) return undefined
  for (const name of classes) {
    if (typeof name === 'string' && name.startsWith('language-')) return name.slice('language-'.length)
  }
  return undefined
}

function textOf(node: Element | ElementContent): string {
  if (node.type === 'text') return (node as Text).value
  if (node.type !== 'element') return ''
  let text = ''
  for (const child of node.children) text += textOf(child)
  return text.replace(/\n$/, '')
}
