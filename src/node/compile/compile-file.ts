import {createHash} from 'node:crypto'
import type {Nodes, Root} from 'mdast'
import type {Element, ElementContent, Root as HastRoot} from 'hast'
import {toHtml} from 'hast-util-to-html'
import {toString} from 'mdast-util-to-string'
import {walkElements} from '../../../plugins/hast-walk.js'
import {VFile} from 'vfile'
import type {Settings} from '../../../plugins/remark-matter/index.js'
import {rules, type RuleId} from '../../../plugins/report.js'
import type {SearchEntry} from '../site/search-entry.js'
import {highlight, highlightsOf} from './highlight.js'
import {createProcessor, type TagpressProcessor} from './processor.js'
import {blockRecord, chapterRecord, qaRecord} from './records.js'
import {createResolver, fileIdOf, pagePathOf} from './resolve.js'
import type {AssetRef, CompiledFile, FileMessage} from './types.js'

export interface CompileInput {
  /** Path relative to the content folder, with `/`. */
  source: string
  value: string
  /** Folder defaults from the config. */
  defaults: Settings
}

export interface CompileContext {
  contentDir: string
  /** `site.base`, starting and ending with `/`. */
  base: string
}

/** Characters of text per search entry: enough to match and show a snippet, small enough for big sites. */
const searchTextLimit = 240

type Resolver = ReturnType<typeof createResolver>

/** Each file's link resolver, looked up by the one shared processor. */
const resolvers = new WeakMap<VFile, Resolver>()

const processor: TagpressProcessor = createProcessor({
  highlight,
  resolve: (url, file, tag) => resolvers.get(file)?.(url, tag)
})

/** Compile one Markdown file: one parse, every output's share of it. */
export async function compileFile(input: CompileInput, context: CompileContext): Promise<CompiledFile> {
  const fileId = fileIdOf(input.source)
  const pagePath = pagePathOf(fileId)
  const assets: AssetRef[] = []
  const file = new VFile({value: input.value, path: input.source, data: {defaults: input.defaults}})
  resolvers.set(file, createResolver(context.contentDir, context.base, input.source, assets))
  const mdast = processor.parse(file)
  let html: string
  let cards: Map<string, CardHtml>
  try {
    const hast = await processor.run(mdast, file)
    html = processor.stringify(hast, file)
    cards = cardHtml(hast, context.base)
  } finally {
    resolvers.delete(file)
  }

  for (const problem of file.data.missing ?? []) {
    const message = file.message('Unexpected link to `' + problem.url + '`: ' + problem.reason, {
      place: problem.position,
      ruleId: 'missing-asset',
      source: 'tagpress'
    })
    message.fatal = true
  }

  const data = file.data
  const sections = data.sections ?? []
  const matter = data.matter ?? {}
  const title = matter.title ?? sections.find((section) => section.level > 0)?.title ?? lastSegment(fileId)
  const description = matter.description ?? firstParagraph(mdast)
  const blocksById = data.blocks ?? []
  const reads = data.blockReads ?? []
  const qa = data.qa ?? []

  const blocks = reads.map((index) => blockRecord(fileId, blocksById[index - 1]!, sections))
  const chapters = (data.chapters ?? []).map((chapter) => chapterRecord(fileId, chapter, sections, title))
  const qaLines = qa.map((pair) => qaRecord(fileId, pair, sections, pagePath))

  return {
    fileId,
    source: input.source,
    hash: createHash('sha256').update(input.value).digest('hex'),
    title,
    description,
    ...(typeof matter.order === 'number' ? {order: matter.order} : {}),
    settings: data.settings ?? {},
    sections: sections.map((section) => ({
      number: section.number,
      level: section.level,
      title: section.title,
      text: section.text,
      anchor: section.anchor,
      chapterTree: section.chapterTree,
      slugPath: section.slugPath,
      parent: section.parent
    })),
    anchors: data.anchors ?? [],
    qa: qa.map((pair) => ({
      id: fileId + '#' + pair.anchor,
      anchor: pair.anchor,
      ...(pair.explicitId ? {explicitId: pair.explicitId} : {}),
      question: pair.question,
      answer: pair.answer,
      questionText: pair.questionText,
      section: pair.section,
      line: pair.line,
      questionHtml: cards.get(pair.anchor)?.question ?? '',
      answerHtml: cards.get(pair.anchor)?.answer ?? '',
      media: cards.get(pair.anchor)?.media ?? []
    })),
    links: data.links ?? [],
    assets,
    html,
    records: {blocks: lines(blocks), chapters: lines(chapters), qa: lines(qaLines)},
    counts: {blocks: blocks.length, chapters: chapters.length, qa: qaLines.length},
    search: searchEntries(context.base, fileId, pagePath, title, description, mdast, data),
    messages: file.messages.map(toMessage).sort((a, b) => a.line - b.line || a.column - b.column),
    code: highlightsOf(codeBlocks(mdast))
  }
}

interface CardHtml {
  question: string
  answer: string
  media: string[]
}

/**
 * Each Q/A pair's question and answer as HTML, cut from the page's own tree
 * (so cards show exactly what the page shows), without the permalink anchor.
 */
function cardHtml(tree: HastRoot, base: string): Map<string, CardHtml> {
  const cards = new Map<string, CardHtml>()
  const get = (anchor: string): CardHtml => {
    let card = cards.get(anchor)
    if (!card) cards.set(anchor, (card = {question: '', answer: '', media: []}))
    return card
  }
  walkElements(tree, (node) => {
    const classes = node.properties.className
    if (!Array.isArray(classes)) return
    const isQuestion = classes.includes('tp-question')
    const isAnswer = classes.includes('tp-answer')
    if (!isQuestion && !isAnswer) return
    const anchor = String(isQuestion ? node.properties.id : node.properties.dataQuestion)
    const children = node.children.filter((child) => !(child.type === 'element' && Array.isArray(child.properties.className) && child.properties.className.includes('tp-anchor')))
    const card = get(anchor)
    const html = toHtml(children as ElementContent[], {allowDangerousHtml: true}).trim()
    if (isQuestion) card.question = html
    else card.answer = html
    collectMedia(children, base, card.media)
    return false
  })
  return cards
}

function collectMedia(nodes: ElementContent[], base: string, media: string[]): void {
  for (const node of nodes) {
    if (node.type !== 'element') continue
    const src = node.tagName === 'img' ? node.properties.src : undefined
    if (typeof src === 'string' && src.startsWith(base + 'assets/') && !media.includes(src.slice(base.length))) media.push(src.slice(base.length))
    collectMedia((node as Element).children, base, media)
  }
}

function codeBlocks(tree: Root): Array<[string, string]> {
  const blocks: Array<[string, string]> = []
  const visit = (node: Nodes): void => {
    if (node.type === 'code' && node.lang) blocks.push([node.lang, node.value])
    else if ('children' in node) for (const child of node.children) visit(child as Nodes)
  }
  visit(tree)
  return blocks
}

function lines(records: string[]): string {
  return records.length > 0 ? records.join('\n') + '\n' : ''
}

function lastSegment(fileId: string): string {
  const name = fileId.slice(fileId.lastIndexOf('/') + 1)
  return name === 'index' && fileId.includes('/') ? lastSegment(fileId.slice(0, fileId.lastIndexOf('/'))) : name
}

function firstParagraph(tree: Root): string {
  const paragraph = tree.children.find((node) => node.type === 'paragraph')
  if (!paragraph) return ''
  const text = toString(paragraph).replace(/\s+/g, ' ').trim()
  return text.length > 160 ? text.slice(0, 157).replace(/\s+\S*$/, '') + '…' : text
}

function searchEntries(
  base: string,
  fileId: string,
  pagePath: string,
  title: string,
  description: string,
  tree: Root,
  data: VFile['data']
): SearchEntry[] {
  const sections = data.sections ?? []
  const rootSections = data.rootSections ?? []
  const texts: string[] = sections.map(() => '')
  let intro = ''
  tree.children.forEach((node, index) => {
    if (node.type === 'heading' || node.type === 'yaml') return
    const section = rootSections[index] ?? -1
    const text = plainText(node as Nodes)
    if (section < 0 || sections[section]?.level === 0) intro = clip(intro + ' ' + text)
    else texts[section] = clip(texts[section] + ' ' + text)
  })
  const entries: SearchEntry[] = [
    {id: fileId, kind: 'page', title, page: title, path: '', url: base + pagePath, text: clip(description || intro)}
  ]
  sections.forEach((section, index) => {
    if (section.level === 0) return
    entries.push({
      id: fileId + '#' + section.anchor,
      kind: 'section',
      title: section.text,
      page: title,
      path: section.chapterTree.join(' › '),
      url: base + pagePath + '#' + section.anchor,
      text: texts[index] ?? ''
    })
  })
  for (const pair of data.qa ?? []) {
    entries.push({
      id: fileId + '#' + pair.anchor,
      kind: 'qa',
      title: pair.questionText,
      page: title,
      path: sections[pair.section]?.chapterTree.join(' › ') ?? '',
      url: base + pagePath + '#' + pair.anchor,
      text: clip(pair.answer.replace(/\s+/g, ' '))
    })
  }
  return entries
}

const phrasing = new Set(['emphasis', 'strong', 'delete', 'link', 'linkReference', 'tagPhrase'])

/** The text of a node with a space between blocks, cells and items (mdast-util-to-string runs them together). */
function plainText(node: Nodes): string {
  const parts: string[] = []
  const visit = (current: Nodes): void => {
    if ('value' in current && current.type !== 'html' && current.type !== 'yaml') parts.push(current.value)
    else if ('children' in current) {
      for (const child of current.children) visit(child as Nodes)
      if (!phrasing.has(current.type)) parts.push(' ')
    }
  }
  visit(node)
  return parts.join('').replace(/\s+/g, ' ').trim()
}

function clip(text: string): string {
  const trimmed = text.trim()
  return trimmed.length > searchTextLimit ? trimmed.slice(0, searchTextLimit) : trimmed
}

function toMessage(message: VFile['messages'][number]): FileMessage {
  const rule = (message.ruleId ?? 'error') as RuleId
  return {
    line: message.place && 'start' in message.place ? message.place.start.line : (message.line ?? 1),
    column: message.place && 'start' in message.place ? message.place.start.column : (message.column ?? 1),
    ...(message.place && 'end' in message.place ? {endLine: message.place.end.line, endColumn: message.place.end.column} : {}),
    rule,
    code: rules[rule] ?? 'TP000',
    reason: message.reason,
    fatal: message.fatal === true
  }
}
