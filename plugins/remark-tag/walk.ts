import type {Heading, Nodes, Parent, Root} from 'mdast'
import type {TagMarker} from '../mdast-util-tag/index.js'

/** A tag marker with the nodes above it, nearest last. */
export interface MarkerRef {
  type: 'marker'
  node: TagMarker
  ancestors: Parent[]
}

/** A heading starts: a boundary no multi-block tag may cross. */
export interface HeadingRef {
  type: 'heading'
  node: Heading
  ancestors: Parent[]
}

export type WalkEvent = MarkerRef | HeadingRef

/** Every marker and heading of the tree, in document order. */
export function collectEvents(tree: Root): WalkEvent[] {
  const events: WalkEvent[] = []
  const ancestors: Parent[] = []
  visit(tree)
  return events

  function visit(node: Nodes): void {
    if (node.type === 'tagMarker') {
      events.push({type: 'marker', node, ancestors: [...ancestors]})
      return
    }
    if (node.type === 'heading') events.push({type: 'heading', node, ancestors: [...ancestors]})
    if (!('children' in node)) return
    ancestors.push(node)
    for (const child of node.children) visit(child as Nodes)
    ancestors.pop()
  }
}
