import type {CompileContext, Extension, Handle, Token} from 'mdast-util-from-markdown'
import type {TagMarker} from './types.js'

/** Turn tag tokens into `tagMarker` nodes (pairing happens later, over the tree). */
export function tagFromMarkdown(): Extension {
  return {
    enter: {tagText: enterTag, tagFlow: enterTag},
    exit: {
      tagText: exitTag,
      tagFlow: exitTag,
      tagTextName: exitName,
      tagFlowName: exitName,
      tagTextId: exitId,
      tagFlowId: exitId
    }
  }
}

function enterTag(this: CompileContext, token: Token): undefined {
  const source = this.sliceSerialize(token)
  const node: TagMarker = {
    type: 'tagMarker',
    name: '',
    kind: source.startsWith('[/') ? (source.endsWith('/]') ? 'void' : 'open') : 'close',
    flow: token.type === 'tagFlow'
  }
  this.enter(node, token)
}

function current(context: CompileContext): TagMarker {
  return context.stack[context.stack.length - 1] as unknown as TagMarker
}

const exitName: Handle = function (token) {
  current(this).name = this.sliceSerialize(token)
}

const exitId: Handle = function (token) {
  current(this).id = this.sliceSerialize(token)
}

const exitTag: Handle = function (token) {
  this.exit(token)
}
