import type {Element, Root} from 'hast'
import {walkElements} from '../hast-walk.js'

/**
 * Give GFM task-list checkboxes an accessible name ("Done" / "Not done"):
 * remark-gfm writes bare disabled inputs, which screen readers announce as
 * unlabelled (an axe violation).
 */
export default function rehypeTaskLabels() {
  return (tree: Root): undefined => {
    walkElements(tree, (node: Element) => {
      if (node.tagName !== 'input' || node.properties.type !== 'checkbox') return
      node.properties.ariaLabel = node.properties.checked ? 'Done' : 'Not done'
    })
  }
}
