import type {} from 'mdast-util-to-hast'
import type {Heading, Root, RootContent} from 'mdast'
import {toString} from 'mdast-util-to-string'
import type {VFile} from 'vfile'
import type {TagPhrase} from '../mdast-util-tag/index.js'
import {reportError} from '../report.js'
import {slugOf, uniqueAnchor} from './slug.js'
import type {Section} from './types.js'

export type {Section} from './types.js'
export {slugOf, uniqueAnchor} from './slug.js'

/**
 * Number the sections of a file, give each a title (its topic, else its
 * text), a chapter tree, a unique anchor (set as the heading's id) and a
 * stable slug path, into `file.data.sections` and `file.data.rootSections`.
 */
export default function remarkSections() {
  return (tree: Root, file: VFile): undefined => {
    const sections: Section[] = []
    const rootSections: number[] = []
    const used = new Set<string>(file.data.anchors ?? [])
    const open: number[] = []
    const childCounts = new Map<number, number>()
    let current = -1

    tree.children.forEach((node, rootIndex) => {
      if (node.type === 'heading') {
        while (open.length > 0 && (sections[open[open.length - 1] as number] as Section).level >= node.depth) open.pop()
        const parent = open.length > 0 ? (open[open.length - 1] as number) : -1
        const count = (childCounts.get(parent) ?? 0) + 1
        childCounts.set(parent, count)
        const section = headingSection(node, parent === -1 ? undefined : sections[parent], count, rootIndex, file, used)
        section.parent = parent
        current = sections.push(section) - 1
        open.push(current)
      } else if (current === -1 && counts(node)) {
        current = sections.push(introSection()) - 1
      }
      rootSections.push(current)
      extend(sections, current, node)
    })

    file.data.sections = sections
    file.data.rootSections = rootSections
    file.data.anchors = [...used]
  }
}

function headingSection(
  heading: Heading,
  parent: Section | undefined,
  count: number,
  rootIndex: number,
  file: VFile,
  used: Set<string>
): Section {
  const topic = heading.children.find((child): child is TagPhrase => child.type === 'tagPhrase' && child.name === 'T')
  const text = toString(heading).trim()
  const title = topic ? toString(topic).trim() : text
  const slug = slugOf(title)
  let anchor: string
  if (topic?.id) {
    if (used.has(topic.id)) {
      reportError(file, 'duplicate-id', topic.position, 'Unexpected duplicate id `' + topic.id + '`, expected ids unique in the file')
    }
    anchor = uniqueAnchor(topic.id, used)
  } else {
    anchor = uniqueAnchor(slug, used)
  }
  heading.data = {...heading.data, hProperties: {...heading.data?.hProperties, id: anchor}}
  return {
    number: parent ? parent.number + '.' + count : String(count),
    level: heading.depth,
    title,
    text,
    anchor,
    ...(topic?.id ? {explicitId: topic.id} : {}),
    chapterTree: [...(parent?.chapterTree ?? []), title],
    slugPath: topic?.id ?? (parent ? parent.slugPath + '/' : '') + slug,
    parent: -1,
    start: heading.position?.start.offset ?? 0,
    end: heading.position?.end.offset ?? 0,
    rootIndex
  }
}

function introSection(): Section {
  return {number: '0', level: 0, title: '', text: '', anchor: '', chapterTree: [], slugPath: '', parent: -1, start: -1, end: 0, rootIndex: -1}
}

/** Nodes that make content before the first heading (not front matter or link definitions). */
function counts(node: RootContent): boolean {
  return node.type !== 'yaml' && node.type !== 'definition'
}

/** A node of a section ends that section and every ancestor section no earlier than its end. */
function extend(sections: Section[], index: number, node: RootContent): void {
  const start = node.position?.start.offset
  const end = node.position?.end.offset
  if (end === undefined) return
  for (let at = index; at !== -1; ) {
    const section = sections[at] as Section
    if (section.start === -1 && start !== undefined) section.start = start
    if (end > section.end) section.end = end
    at = section.parent
  }
}
