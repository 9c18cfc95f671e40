import type {Element} from 'hast'
import type {Handler, Handlers} from 'mdast-util-to-hast'
import type {TagBlock} from './types.js'

/**
 * mdast-util-to-hast handlers: a `tagBlock` becomes a `<div>` (renamed by
 * `data.hName`) with its blocks on their own lines, like a blockquote's.
 * `tagPhrase` needs none: the default keeps its children and honours `data.hName`.
 */
export const tagToHast: Partial<Handlers> = {
  tagBlock: ((state, node: TagBlock) => {
    const result: Element = {type: 'element', tagName: 'div', properties: {}, children: state.wrap(state.all(node), true)}
    state.patch(node, result)
    return state.applyData(node, result)
  }) as Handler
}
