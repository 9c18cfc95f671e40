import type {Element, ElementContent, Root} from 'hast'
import {walkElements} from '../hast-walk.js'

const headings = new Set(['h1', 'h2', 'h3', 'h4', 'h5', 'h6'])

/**
 * Give every heading with an id, and every question (`.tp-question`), a
 * permalink anchor (`<a class="header-anchor" href="#id">#</a>`), so sections
 * and Q/A can be linked to.
 */
export default function rehypeAnchors() {
  return (tree: Root): undefined => {
    walkElements(tree, (node: Element) => {
      const id = node.properties.id
      if (typeof id !== 'string') return
      if (headings.has(node.tagName)) {
        node.children.push({type: 'text', value: ' '}, anchor(id, 'header-anchor', 'Permalink to this section'))
      } else if (hasClass(node, 'tp-question')) {
        node.children.push(anchor(id, 'tp-anchor', 'Link to this question'))
      }
    })
  }
}

function anchor(id: string, className: string, label: string): ElementContent {
  return {
    type: 'element',
    tagName: 'a',
    properties: {className: [className], href: '#' + id, ariaLabel: label},
    children: [{type: 'text', value: '#'}]
  }
}

function hasClass(node: Element, name: string): boolean {
  const value = node.properties.className
  return Array.isArray(value) && value.includes(name)
}
