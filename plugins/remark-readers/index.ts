import type {Nodes, Parent, Root, RootContent} from 'mdast'
import type {VFile} from 'vfile'
import type {TagMarker} from '../mdast-util-tag/index.js'
import {reportError, tagText} from '../report.js'
import {stripTags} from '../source/index.js'
import type {Block, Chapter} from './types.js'

export type {Block, Chapter} from './types.js'

/** Nodes that are never blocks. */
const notBlocks = new Set(['yaml', 'toml', 'definition', 'footnoteDefinition', 'thematicBreak', 'tagMarker'])

interface MarkerAt {
  marker: TagMarker
  /** From the root down to the marker's parent. */
  ancestors: Parent[]
  /** The block holding it (an index into blocks), or, for a marker alone on its line, the last block before it. */
  block: number
  section: number
  inHeading: boolean
}

/**
 * The block and chapter readers: list the file's blocks, then emit the
 * blocks each `[/BLOCKREAD/]` covers and the section each
 * `[/CHAPTREEREAD/]` stands in (or all of them, per `file.data.settings`);
 * then take the markers out of the tree so they never reach the page.
 *
 * Needs remark-tag and remark-sections before it.
 */
export default function remarkReaders() {
  return (tree: Root, file: VFile): undefined => {
    const source = String(file.value)
    const ranges = file.data.tagRanges ?? []
    const sections = file.data.sections ?? []
    const rootSections = file.data.rootSections ?? []
    const settings = file.data.settings ?? {}
    const blocks: Block[] = []
    const markers: MarkerAt[] = []

    tree.children.forEach((node, rootIndex) => {
      const section = rootSections[rootIndex] ?? -1
      for (const top of node.type === 'tagBlock' ? node.children : [node]) {
        const found = findMarkers(top, tree)
        const isBlock = !notBlocks.has(top.type) && !onlyMarkers(top)
        if (isBlock) blocks.push(block(top as RootContent, blocks.length + 1, section))
        for (const {marker, ancestors, inHeading} of found) {
          markers.push({marker, ancestors, block: blocks.length - 1, section, inHeading})
        }
      }
    })

    const reads = new Set<number>()
    const chapterSections = new Set<number>()
    const lastRead = new Map<number, number>()
    for (const at of markers) {
      if (at.inHeading) {
        reportError(file, 'misplaced-marker', at.marker.position,
          'Unexpected `' + tagText(at.marker.name, 'void') + '` in a heading, expected it in the section\'s text')
        continue
      }
      if (at.marker.name === 'CHAPTREEREAD') {
        if (at.section !== -1) chapterSections.add(at.section)
        continue
      }
      // BLOCKREAD: from the section's start or the previous marker, up to the block holding this one.
      let from = lastRead.get(at.section) ?? -1
      for (let index = from + 1; index <= at.block; index++) {
        if ((blocks[index] as Block).section === at.section) reads.add(index + 1)
      }
      from = at.block
      lastRead.set(at.section, from)
    }
    if (settings.blockread === 'all') for (const item of blocks) reads.add(item.index)
    if (settings.chaptread === 'all') sections.forEach((_, index) => chapterSections.add(index))

    file.data.blocks = blocks
    file.data.blockReads = [...reads].sort((a, b) => a - b)
    file.data.chapters = [...chapterSections]
      .sort((a, b) => a - b)
      .map((index): Chapter => {
        const section = sections[index]
        return {section: index, content: section ? stripTags(source, section.start, section.end, ranges) : ''}
      })
      .filter((chapter) => chapter.content !== '')

    for (const at of markers) removeMarker(at.marker, at.ancestors)

    function block(node: RootContent, index: number, section: number): Block {
      if (node.type === 'code') {
        return {index, kind: 'code', ...(node.lang ? {lang: node.lang} : {}), section, content: node.value}
      }
      const start = node.position?.start.offset ?? 0
      const end = node.position?.end.offset ?? 0
      return {index, kind: node.type, section, content: stripTags(source, start, end, ranges)}
    }
  }
}

interface Found {
  marker: TagMarker
  ancestors: Parent[]
  inHeading: boolean
}

/** The void markers inside (or being) a top-level node, with their ancestors. */
function findMarkers(node: Nodes, root: Root): Found[] {
  const found: Found[] = []
  const ancestors: Parent[] = [root]
  visit(node, false)
  return found

  function visit(current: Nodes, inHeading: boolean): void {
    if (current.type === 'tagMarker') {
      if (current.kind === 'void') found.push({marker: current, ancestors: [...ancestors], inHeading})
      return
    }
    if (!('children' in current)) return
    ancestors.push(current)
    const heading = inHeading || current.type === 'heading'
    for (const child of current.children) visit(child as Nodes, heading)
    ancestors.pop()
  }
}

/** A paragraph that held only markers (and spaces) is not a block. */
function onlyMarkers(node: Nodes): boolean {
  if (node.type !== 'paragraph') return false
  return node.children.every((child) => child.type === 'tagMarker' || (child.type === 'text' && child.value.trim() === ''))
}

/**
 * Take a marker out of the tree, with the space before it, then drop the
 * paragraphs, list items, lists and quotes it left empty (a list item a
 * marker empties goes with it).
 */
function removeMarker(marker: TagMarker, ancestors: Parent[]): void {
  const parent = ancestors[ancestors.length - 1]
  if (!parent) return
  const index = parent.children.indexOf(marker as never)
  if (index === -1) return
  parent.children.splice(index, 1)
  const before = parent.children[index - 1] as Nodes | undefined
  const after = parent.children[index] as Nodes | undefined
  if (before?.type === 'text') before.value = before.value.replace(after ? /[ \t]+$/ : /\s+$/, '')
  if (after?.type === 'text' && !before) after.value = after.value.replace(/^\s+/, '')
  for (let level = ancestors.length - 1; level > 0; level--) {
    const node = ancestors[level] as Parent
    if (!isEmpty(node)) break
    const above = ancestors[level - 1] as Parent
    above.children.splice(above.children.indexOf(node as never), 1)
  }
}

function isEmpty(node: Parent): boolean {
  if (node.type === 'root' || node.type === 'tableCell' || node.type === 'heading') return false
  return node.children.every((child) => child.type === 'text' && child.value.trim() === '')
}
