import type {} from 'mdast-util-to-hast'
import type {Nodes, Parent, Root} from 'mdast'
import {toString} from 'mdast-util-to-string'
import type {VFile} from 'vfile'
import type {TagBlock, TagPhrase} from '../mdast-util-tag/index.js'
import {reportError, tagText, where} from '../report.js'
import {slugOf, uniqueAnchor} from '../remark-sections/slug.js'
import {dedentContinuation, stripTags} from '../source/index.js'
import type {QaPair} from './types.js'

export type {QaPair} from './types.js'

type Element = TagPhrase | TagBlock

interface Found {
  node: Element
  ancestors: Parent[]
  rootIndex: number
}

/**
 * Give questions, answers and topics their meaning: check where they stand
 * (topics only in headings, answers and markers never in one), pair each
 * question with the answer that follows it in the same section, anchor the
 * questions, and mark all three for HTML. Pairs go to `file.data.qa`.
 *
 * Needs remark-tag before it; uses remark-sections' data when present.
 */
export default function remarkQa() {
  return (tree: Root, file: VFile): undefined => {
    const source = String(file.value)
    const ranges = file.data.tagRanges ?? []
    const rootSections = file.data.rootSections ?? []
    const used = new Set<string>(file.data.anchors ?? [])
    const broken = file.data.brokenTags ?? []
    const pairs: QaPair[] = []
    let pending: Found | undefined
    /** Where the last answer that found its question starts. */
    let lastPaired = -1

    for (const found of collect(tree)) {
      const {node, ancestors} = found
      const heading = ancestors.find((ancestor) => ancestor.type === 'heading')
      const section = rootSections[found.rootIndex] ?? -1
      if (node.name === 'T') {
        checkTopic(found, heading, file)
        continue
      }
      if (node.name === 'A' && heading) {
        reportError(file, 'misplaced-in-heading', node.position,
          'Unexpected answer `[/A]` in a heading, expected it after the heading (a heading may hold a question or a topic)')
        // Reported: the question it was meant for is not unanswered as well.
        pending = undefined
        continue
      }
      if (node.name === 'Q') {
        if (pending) {
          const sameSection = (rootSections[pending.rootIndex] ?? -1) === section
          unanswered(pending, sameSection ? 'before the next question (' + where(node) + ')' : 'in its section (an answer must follow its question before the next heading)')
        }
        pending = found
        continue
      }
      // An answer.
      if (!pending) {
        const at = node.position?.start.offset ?? 0
        // Its question was reported broken already: say it once.
        if (broken.some((tag) => tag.name === 'Q' && tag.offset < at && tag.offset > lastPaired)) continue
        reportError(file, 'answer-without-question', node.position,
          'Unexpected answer `[/A]` with no open question before it, expected `[/Q]…[Q/]` first')
        continue
      }
      const questionSection = rootSections[pending.rootIndex] ?? -1
      if (questionSection !== section) {
        unanswered(pending, 'in its section (an answer must follow its question before the next heading)')
        reportError(file, 'answer-without-question', node.position,
          'Unexpected answer `[/A]` in another section than its question (' + where(pending.node) + '), expected both in one section')
        pending = undefined
        continue
      }
      pairs.push(pair(pending, found, questionSection))
      lastPaired = node.position?.start.offset ?? 0
      pending = undefined
    }
    if (pending) unanswered(pending, 'before the end of the file')

    file.data.qa = pairs
    file.data.anchors = [...used]

    function unanswered(found: Found, place: string): void {
      // An answer that remark-tag already reported as broken is the reason: say it once.
      const from = found.node.position?.start.offset ?? 0
      if (broken.some((tag) => tag.name === 'A' && tag.offset > from)) return
      reportError(file, 'unanswered-question', found.node.position,
        'Expected an answer `[/A]…[A/]` for the question `' + tagText('Q', 'open', found.node.id) + '` ' + place)
    }

    function pair(question: Found, answer: Found, section: number): QaPair {
      const q = question.node
      const questionText = toString(q).replace(/\s+/g, ' ').trim()
      let anchor: string
      if (q.id) {
        if (used.has(q.id)) {
          reportError(file, 'duplicate-id', q.position, 'Unexpected duplicate id `' + q.id + '`, expected ids unique in the file')
        }
        anchor = uniqueAnchor(q.id, used)
      } else {
        anchor = uniqueAnchor('q-' + slugOf(questionText), used)
      }
      const heading = question.ancestors.find((ancestor) => ancestor.type === 'heading')
      if (heading) {
        const properties = heading.data?.hProperties ?? {}
        heading.data = {...heading.data, hProperties: {...properties, className: ['tp-question-heading']}}
      }
      mark(q, q.type === 'tagBlock' ? 'div' : 'span', 'tp-question', anchor)
      mark(answer.node, answer.node.type === 'tagBlock' ? 'div' : 'span', 'tp-answer', undefined, anchor)
      const start = q.position?.start
      return {
        question: text(question),
        answer: text(answer),
        questionText,
        anchor,
        ...(q.id ? {explicitId: q.id} : {}),
        section,
        rootIndex: question.rootIndex,
        line: start?.line ?? 0,
        column: start?.column ?? 0,
        heading: heading !== undefined
      }
    }

    function text(found: Found): string {
      const {node, ancestors} = found
      return dedentContinuation(stripTags(source, node.contentStart, node.contentEnd, ranges), ancestors)
    }
  }
}

function checkTopic(found: Found, heading: Parent | undefined, file: VFile): void {
  const {node} = found
  if (!heading) {
    reportError(file, 'topic-outside-heading', node.position,
      'Unexpected topic `[/T]` outside a heading, expected it inside a heading (`## [/T]Title[T/]`)')
    return
  }
  const first = heading.children.find((child) => child.type === 'tagPhrase' && child.name === 'T')
  if (first !== node) {
    reportError(file, 'duplicate-topic', node.position,
      'Unexpected second topic `[/T]` in one heading (first at ' + where(first as Nodes) + '), expected at most one')
    return
  }
  mark(node, 'span', 'tp-topic')
}

/** HTML for an element: its tag, class, id, and for an answer the id of its question (`data-question`). */
function mark(node: Element, tagName: string, className: string, id?: string, question?: string): void {
  node.data = {...node.data, hName: tagName, hProperties: {className: [className], ...(id ? {id} : {}), ...(question ? {dataQuestion: question} : {})}}
}

/** Every Q/A/T element in document order, with its ancestors and its root child's index. */
function collect(tree: Root): Found[] {
  const found: Found[] = []
  const ancestors: Parent[] = []
  tree.children.forEach((child, rootIndex) => visit(child, rootIndex))
  return found

  function visit(node: Nodes, rootIndex: number): void {
    if (node.type === 'tagPhrase' || node.type === 'tagBlock') {
      found.push({node, ancestors: [tree, ...ancestors], rootIndex})
    }
    if (!('children' in node)) return
    ancestors.push(node)
    for (const child of node.children) visit(child as Nodes, rootIndex)
    ancestors.pop()
  }
}
