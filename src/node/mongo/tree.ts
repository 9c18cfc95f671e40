import type {BaseNode} from './schema.js'

/** A node of an in-memory tree: the flat document and its children in display order. */
export interface TreeNode<D extends BaseNode = BaseNode> {
  doc: D
  children: Array<TreeNode<D>>
}

/**
 * Build trees from flat documents (any order): children under their parents,
 * sorted by `order` (then `_id`). Documents whose parent is not among them
 * are roots, so a subtree read with `{$or: [{_id: X}, {ancestors: X}]}` comes
 * back as one tree rooted at X. Roots are sorted by `tree_id`, then `order`.
 */
export function assembleTrees<D extends BaseNode>(docs: Iterable<D>): Array<TreeNode<D>> {
  const byId = new Map<string, TreeNode<D>>()
  for (const doc of docs) byId.set(doc._id, {doc, children: []})
  const roots: Array<TreeNode<D>> = []
  for (const node of byId.values()) {
    const parent = node.doc.parent_id === null ? undefined : byId.get(node.doc.parent_id)
    if (parent) parent.children.push(node)
    else roots.push(node)
  }
  const sort = (nodes: Array<TreeNode<D>>): void => {
    nodes.sort((a, b) => a.doc.order - b.doc.order || compare(a.doc._id, b.doc._id))
    for (const node of nodes) if (node.children.length > 0) sort(node.children)
  }
  for (const root of roots) sort(root.children)
  roots.sort((a, b) => compare(a.doc.tree_id, b.doc.tree_id) || a.doc.order - b.doc.order || compare(a.doc._id, b.doc._id))
  return roots
}

/** The node with this id in a tree, with everything under it (or undefined). */
export function subtree<D extends BaseNode>(root: TreeNode<D>, id: string): TreeNode<D> | undefined {
  const stack = [root]
  while (stack.length > 0) {
    const node = stack.pop() as TreeNode<D>
    if (node.doc._id === id) return node
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i] as TreeNode<D>)
  }
  return undefined
}

/** The nodes from the root down to the node with this id, both included (empty when it is not in the tree). */
export function pathTo<D extends BaseNode>(root: TreeNode<D>, id: string): Array<TreeNode<D>> {
  const path: Array<TreeNode<D>> = []
  const walk = (node: TreeNode<D>): boolean => {
    path.push(node)
    if (node.doc._id === id) return true
    for (const child of node.children) if (walk(child)) return true
    path.pop()
    return false
  }
  walk(root)
  return path
}

/** Every node of a tree in display order (pre-order). */
export function flatten<D extends BaseNode>(root: TreeNode<D>): D[] {
  const out: D[] = []
  const walk = (node: TreeNode<D>): void => {
    out.push(node.doc)
    for (const child of node.children) walk(child)
  }
  walk(root)
  return out
}

/**
 * Render a tree as anytree's `RenderTree` does (its default `ContStyle`):
 * the root on the first line, then each child behind `├── ` or `└── `, with
 * `│   ` or four spaces continuing the lines of the levels above.
 */
export function renderTree<D extends BaseNode>(root: TreeNode<D>, label: (doc: D) => string = defaultLabel, maxDepth = Infinity): string {
  const lines: string[] = [oneLine(label(root.doc))]
  const walk = (node: TreeNode<D>, prefix: string, depth: number): void => {
    if (depth >= maxDepth) return
    node.children.forEach((child, index) => {
      const last = index === node.children.length - 1
      lines.push(prefix + (last ? '└── ' : '├── ') + oneLine(label(child.doc)))
      walk(child, prefix + (last ? '    ' : '│   '), depth + 1)
    })
  }
  walk(root, '', 0)
  return lines.join('\n') + '\n'
}

/** A node's line in `tagpress tree`: what it is and its title. */
export function defaultLabel(doc: BaseNode): string {
  const fields = doc as BaseNode & {path?: string; state?: string}
  const title = shorten(doc.title ?? '')
  switch (doc.kind) {
    case 'file':
      return doc._id + (title && title !== doc._id ? ' — ' + title : '')
    case 'section':
      return (fields.path ? fields.path + ' ' : '') + title
    case 'qa':
      return 'Q: ' + title
    case 'session':
      return 'session: ' + (title || doc._id)
    case 'question':
      return 'Q: ' + title + (fields.state && fields.state !== 'immutable' ? ' [' + fields.state + ']' : '')
    default:
      return title || doc._id
  }
}

function shorten(text: string): string {
  const flat = oneLine(text)
  return flat.length > 80 ? flat.slice(0, 79) + '…' : flat
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim()
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
