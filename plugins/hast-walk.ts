import type {Element, Root} from 'hast'

/**
 * Call `visit` for every element, depth first, with its parent and index; a
 * visitor returning `false` skips the element's children. A plain loop:
 * these walks run over every page, and a generic visitor costs more than
 * the work they do.
 */
export function walkElements(tree: Root | Element, visit: (node: Element, parent: Root | Element, index: number) => boolean | void): void {
  const children = tree.children
  for (let index = 0; index < children.length; index++) {
    const child = children[index]
    if (child?.type !== 'element') continue
    if (visit(child, tree, index) !== false) walkElements(child, visit)
  }
}
