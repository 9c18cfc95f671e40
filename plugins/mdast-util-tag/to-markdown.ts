import type {Handle, Options} from 'mdast-util-to-markdown'
import type {TagBlock, TagMarker, TagPhrase} from './types.js'

/** Serialize tag nodes back to `[/X]…[X/]` (for remark-stringify). */
export function tagToMarkdown(): Options {
  return {handlers: {tagMarker, tagPhrase, tagBlock}}
}

function open(name: string, id: string | undefined): string {
  return '[/' + name + (id ? '#' + id : '') + ']'
}

const tagMarker: Handle = function (node: TagMarker) {
  if (node.kind === 'close') return '[' + node.name + '/]'
  if (node.kind === 'void') return '[/' + node.name + (node.id ? '#' + node.id : '') + '/]'
  return open(node.name, node.id)
}

const tagPhrase: Handle = function (node: TagPhrase, _parent, state, info) {
  const before = open(node.name, node.id)
  const after = '[' + node.name + '/]'
  const tracker = state.createTracker(info)
  tracker.move(before)
  const inner = state.containerPhrasing(node, {...tracker.current(), before, after})
  return before + inner + after
}

const tagBlock: Handle = function (node: TagBlock, _parent, state, info) {
  const inner = state.containerFlow(node, info)
  return open(node.name, node.id) + '\n' + inner + '\n[' + node.name + '/]'
}
