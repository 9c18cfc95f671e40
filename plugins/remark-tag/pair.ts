import type {Parent, PhrasingContent, Root, RootContent, Text} from 'mdast'
import type {VFile} from 'vfile'
import type {TagBlock, TagMarker, TagPhrase} from '../mdast-util-tag/index.js'
import {reportError, tagText, where} from '../report.js'
import type {TagRange} from './types.js'
import {collectEvents, type MarkerRef} from './walk.js'

/** Names written as pairs, and the one that may span whole blocks (an answer). */
const pairedNames = new Set(['Q', 'A', 'T'])
const spanningNames = new Set(['A'])
/** Nodes whose children are blocks: a spanning tag's blocks sit in one of these. */
const flowContainers = new Set(['root', 'blockquote', 'listItem', 'footnoteDefinition'])

interface Open {
  ref: MarkerRef
  /** Unmatched literal openers inside, per name (a balanced pair inside is text). */
  inner: Map<string, MarkerRef[]>
  literals: MarkerRef[]
}

interface Pair {
  open: MarkerRef
  close: MarkerRef
}

/**
 * Pair tag markers into `tagPhrase` (within one paragraph, heading or cell)
 * and `tagBlock` (whole blocks) elements. Inside an open Q/A/T, tags count
 * per name: balanced pairs and void tags are literal text. Every problem is a
 * positioned message; the offending markers become literal text so the rest
 * of the file is still checked.
 */
export function pairTags(tree: Root, file: VFile): void {
  const pairs: Pair[] = []
  const voids: TagMarker[] = []
  /** Names of openers given up on: their closer, if it comes, is not reported again. */
  const orphans = new Set<string>()
  const broken: Array<{name: string; offset: number}> = []
  const literal = new Map<TagMarker, MarkerRef>()
  let open: Open | undefined

  for (const event of collectEvents(tree)) {
    if (event.type === 'heading') {
      if (open && spans(open.ref)) {
        const name = open.ref.node.name
        reportError(file, 'heading-in-answer', event.node.position,
          'Unexpected heading inside `' + tagText(name, 'open') + '` (' + where(open.ref.node) +
            '), expected `' + tagText(name, 'close') + '` before it: a question or answer cannot contain a heading')
        abandon(open)
        open = undefined
      }
      continue
    }

    const node = event.node
    if (open && parentOf(event) !== parentOf(open.ref) && !spans(open.ref)) {
      if (closes(open, node)) {
        spanError(open, event)
        open = undefined
        continue
      }
      unclosed(open, 'before the end of the ' + describe(parentOf(open.ref)))
      open = undefined
    }

    if (open) {
      if (closes(open, node)) {
        closeOpen(open, event)
        open = undefined
      } else {
        addInner(open, event)
      }
      continue
    }

    if (node.kind === 'void' ? pairedNames.has(node.name) : !pairedNames.has(node.name)) {
      wrongForm(event)
    } else if (node.kind === 'close' && orphans.has(node.name)) {
      // The closer of a tag already reported (and made text): no second message.
      orphans.delete(node.name)
      literal.set(node, event)
    } else if (node.kind === 'close') {
      reportError(file, 'stray-closer', node.position,
        'Unexpected closing tag `' + tagText(node.name, 'close') + '` with no open `' + tagText(node.name, 'open') + '` before it')
      literal.set(node, event)
    } else if (node.kind === 'open') {
      orphans.delete(node.name)
      open = {ref: event, inner: new Map(), literals: []}
    } else {
      voids.push(node)
    }
  }

  if (open) unclosed(open, spans(open.ref) ? 'before the end of the file' : 'before the end of the ' + describe(parentOf(open.ref)))

  file.data.tagRanges = syntaxRanges(pairs, voids)
  file.data.brokenTags = broken

  // Literals first: they only merge text, so the pairs' markers keep their places.
  for (const ref of literal.values()) toText(ref)
  for (const pair of pairs) {
    if (inOnePhrase(pair)) wrapPhrase(pair)
  }
  for (const pair of pairs) {
    if (!inOnePhrase(pair)) wrapBlocks(pair)
  }

  function addInner(state: Open, event: MarkerRef): void {
    const node = event.node
    state.literals.push(event)
    if (node.kind === 'open') {
      const stack = state.inner.get(node.name) ?? []
      stack.push(event)
      state.inner.set(node.name, stack)
    } else if (node.kind === 'close') {
      const stack = state.inner.get(node.name)
      if (stack?.length) stack.pop()
      else {
        reportError(file, 'unbalanced-literal', node.position,
          'Unexpected closing tag `' + tagText(node.name, 'close') + '` inside `' + tagText(state.ref.node.name, 'open') +
            '` (' + where(state.ref.node) + '): a tag inside a question or answer is text only as a balanced pair; escape it as `\\' +
            tagText(node.name, 'close') + '`')
      }
    }
  }

  function closeOpen(state: Open, close: MarkerRef): void {
    for (const [name, stack] of state.inner) {
      for (const ref of stack) {
        reportError(file, 'unbalanced-literal', ref.node.position,
          'Unexpected `' + tagText(name, 'open') + '` without `' + tagText(name, 'close') + '` inside `' +
            tagText(state.ref.node.name, 'open') + '` (' + where(state.ref.node) +
            '): a tag inside a question or answer is text only as a balanced pair; escape it as `\\' + tagText(name, 'open') + '`')
      }
    }
    for (const ref of state.literals) literal.set(ref.node, ref)
    if (!inOnePhrase({open: state.ref, close}) && !blockSpan(state.ref, close)) {
      spanError(state, close)
      return
    }
    pairs.push({open: state.ref, close})
  }

  function spanError(state: Open, close: MarkerRef): void {
    const name = state.ref.node.name
    reportError(file, 'answer-span', close.node.position,
      'Unexpected `' + tagText(name, 'close') + '` here for `' + tagText(name, 'open') + '` (' + where(state.ref.node) +
        '): a tag that spans blocks must open at the start of a block and close at the end of the text of a later block in the same container')
    abandon(state)
    literal.set(close.node, close)
  }

  function unclosed(state: Open, place: string): void {
    const name = state.ref.node.name
    reportError(file, 'unclosed-tag', state.ref.node.position,
      'Expected a closing `' + tagText(name, 'close') + '` for `' + tagText(name, 'open', state.ref.node.id) + '` ' + place)
    abandon(state)
  }

  function abandon(state: Open): void {
    orphans.add(state.ref.node.name)
    broken.push({name: state.ref.node.name, offset: state.ref.node.position?.start.offset ?? 0})
    literal.set(state.ref.node, state.ref)
    for (const ref of state.literals) literal.set(ref.node, ref)
  }

  function wrongForm(event: MarkerRef): void {
    const node = event.node
    const expected = pairedNames.has(node.name)
      ? '`' + tagText(node.name, 'open') + '…' + tagText(node.name, 'close') + '`'
      : 'the void form `' + tagText(node.name, 'void') + '`'
    reportError(file, 'wrong-tag-form', node.position,
      'Unexpected `' + tagText(node.name, node.kind, node.id) + '`, expected ' + expected)
    literal.set(node, event)
  }
}

/** The node holding a marker: a phrasing parent, or a flow container for a marker alone on its line. */
function parentOf(ref: MarkerRef): Parent {
  return ref.ancestors[ref.ancestors.length - 1] as Parent
}

/** Where the tags that are syntax sit in the source, sorted: records are the source without them. */
function syntaxRanges(pairs: Pair[], voids: TagMarker[]): TagRange[] {
  const markers = [...voids, ...pairs.flatMap((pair) => [pair.open.node, pair.close.node])]
  const ranges: TagRange[] = []
  for (const marker of markers) {
    const position = marker.position
    if (position?.start.offset === undefined || position.end.offset === undefined) continue
    ranges.push({start: position.start.offset, end: position.end.offset, flow: marker.flow})
  }
  return ranges.sort((a, b) => a.start - b.start)
}

/** Whether `node` closes the open tag: same name, and no literal pair of that name left open inside. */
function closes(open: Open, node: TagMarker): boolean {
  return node.kind === 'close' && node.name === open.ref.node.name && !open.inner.get(node.name)?.length
}

function inOnePhrase({open, close}: Pair): boolean {
  return !open.node.flow && !close.node.flow && parentOf(open) === parentOf(close)
}

/** Whether an open marker may be closed in another block: an answer at the start of a block. */
function spans(ref: MarkerRef): boolean {
  return spanningNames.has(ref.node.name) && blockStart(ref) !== undefined
}

function describe(parent: Parent): string {
  return parent.type === 'tableCell' ? 'table cell' : parent.type
}

/** The container and index of the first block a spanning opener covers, if it stands at a block's start. */
function blockStart(ref: MarkerRef): {container: Parent; index: number} | undefined {
  const {node, ancestors} = ref
  const parent = parentOf(ref)
  if (node.flow) return {container: parent, index: parent.children.indexOf(node as never) + 1}
  const container = ancestors[ancestors.length - 2]
  if (!container || !flowContainers.has(container.type) || parent.type !== 'paragraph') return undefined
  if (firstContent(parent.children) !== node) return undefined
  return {container, index: container.children.indexOf(parent as never)}
}

/** The index of the last block a spanning closer covers in `container`, if it stands at that block's end. */
function blockEnd(ref: MarkerRef, container: Parent): number | undefined {
  const {node, ancestors} = ref
  if (node.flow) {
    return parentOf(ref) === container ? container.children.indexOf(node as never) - 1 : undefined
  }
  const at = ancestors.indexOf(container)
  if (at === -1) return undefined
  // From the marker up to the block under the container, each node must be the last child.
  let child: unknown = node
  for (let level = ancestors.length - 1; level > at; level--) {
    const parent = ancestors[level] as Parent
    const last = level === ancestors.length - 1 ? lastContent(parent.children) : parent.children[parent.children.length - 1]
    if (last !== child) return undefined
    child = parent
  }
  return container.children.indexOf(child as never)
}

function blockSpan(open: MarkerRef, close: MarkerRef): {container: Parent; from: number; to: number} | undefined {
  const start = blockStart(open)
  if (!start) return undefined
  const to = blockEnd(close, start.container)
  if (to === undefined || to < start.index) return undefined
  return {container: start.container, from: start.index, to}
}

function isBlank(node: unknown): boolean {
  const text = node as Text
  return text.type === 'text' && text.value.trim() === ''
}

function firstContent(children: readonly unknown[]): unknown {
  return children.find((child) => !isBlank(child))
}

function lastContent(children: readonly unknown[]): unknown {
  return children.findLast((child) => !isBlank(child))
}

function wrapPhrase({open, close}: Pair): void {
  const parent = parentOf(open)
  const from = parent.children.indexOf(open.node as never)
  const to = parent.children.indexOf(close.node as never)
  const element: TagPhrase = {
    type: 'tagPhrase',
    name: open.node.name,
    id: open.node.id,
    children: parent.children.slice(from + 1, to) as PhrasingContent[],
    contentStart: open.node.position?.end.offset ?? 0,
    contentEnd: close.node.position?.start.offset ?? 0,
    position: span(open.node, close.node)
  }
  if (!element.id) delete element.id
  parent.children.splice(from, to - from + 1, element as never)
}

function wrapBlocks({open, close}: Pair): void {
  const range = blockSpan(open, close)
  if (!range) return
  const {container} = range
  const blocks = container.children.slice(range.from, range.to + 1) as TagBlock['children']
  const element: TagBlock = {
    type: 'tagBlock',
    name: open.node.name,
    id: open.node.id,
    children: blocks,
    contentStart: open.node.position?.end.offset ?? 0,
    contentEnd: close.node.position?.start.offset ?? 0,
    position: span(open.node, close.node)
  }
  if (!element.id) delete element.id
  container.children.splice(range.from, range.to - range.from + 1, element as never)
  removeMarker(open, 'start')
  removeMarker(close, 'end')
}

/** Take an edge marker out of its paragraph (with the space beside it) or out of its container. */
function removeMarker(ref: MarkerRef, edge: 'start' | 'end'): void {
  const parent = parentOf(ref)
  const index = parent.children.indexOf(ref.node as never)
  parent.children.splice(index, 1)
  if (ref.node.flow) return
  const neighbour = parent.children[edge === 'start' ? index : index - 1] as RootContent | undefined
  if (neighbour?.type === 'text') {
    neighbour.value = edge === 'start' ? neighbour.value.replace(/^\s+/, '') : neighbour.value.replace(/\s+$/, '')
    if (neighbour.value === '') parent.children.splice(parent.children.indexOf(neighbour as never), 1)
  }
}

function span(from: TagMarker, to: TagMarker): TagMarker['position'] {
  return from.position && to.position ? {start: from.position.start, end: to.position.end} : undefined
}

/**
 * A literal tag becomes text and joins the text around it; one alone on its
 * line becomes a paragraph of its own.
 */
function toText(ref: MarkerRef): void {
  const {node} = ref
  const parent = parentOf(ref)
  const index = parent.children.indexOf(node as never)
  if (index === -1) return
  const text: Text = {type: 'text', value: tagText(node.name, node.kind, node.id)}
  if (node.position) text.position = node.position
  if (node.flow) {
    const paragraph = {type: 'paragraph', children: [text], position: node.position}
    parent.children.splice(index, 1, paragraph as never)
    return
  }
  const before = parent.children[index - 1] as RootContent | undefined
  const after = parent.children[index + 1] as RootContent | undefined
  let from = index
  let to = index
  if (before?.type === 'text') {
    text.value = before.value + text.value
    if (before.position && text.position) text.position = {start: before.position.start, end: text.position.end}
    from--
  }
  if (after?.type === 'text') {
    text.value += after.value
    if (after.position && text.position) text.position = {start: text.position.start, end: after.position.end}
    to++
  }
  parent.children.splice(from, to - from + 1, text as never)
}
