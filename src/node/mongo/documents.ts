import {hash} from 'node:crypto'
import type {CompiledDetail} from '../build/cache.js'
import {pagePathOf} from '../compile/resolve.js'
import type {PublishedFile} from '../outputs/types.js'
import {schemaVersion, type DocumentNode, type FileNode, type QaNode, type SectionNode} from './schema.js'

/**
 * The document tree of one published file, as flat nodes in display order
 * (pre-order: the file, then each section followed by its Q/As and its
 * subsections, as they appear in the source). `order` numbers them from 0.
 *
 * Identity (SPEC §1): nothing here is a position.
 * - a file: its file id (`guide/intro`);
 * - a section: `<file id>#<slug path>`, the slug path of its titles from the
 *   top-level section down (`guide/intro#install/on-linux`), or of its explicit
 *   topic id (`## [/T#setup]…`); a repeated slug path gets `~2`, `~3`, … in
 *   document order;
 * - a Q/A: its record id, `<file id>#<anchor>`: the explicit id (`[/Q#id]`),
 *   else `q-` and the slug of the question's text.
 * Text before the first heading (section `0`) is not a node: its Q/As hang
 * off the file.
 */
export function fileDocuments(file: Pick<PublishedFile, 'source' | 'meta'>, project: string, detail: Pick<CompiledDetail, 'sections' | 'qa'>): DocumentNode[] {
  const {meta} = file
  const fileId = meta.fileId
  const page = pagePathOf(fileId)
  const nodes: DocumentNode[] = []
  const used = new Set<string>([fileId])
  const unique = (id: string): string => {
    if (!used.has(id)) {
      used.add(id)
      return id
    }
    for (let n = 2; ; n++) {
      const candidate = id + '~' + n
      if (!used.has(candidate)) {
        used.add(candidate)
        return candidate
      }
    }
  }

  const root: FileNode = finish({
    _id: fileId,
    project,
    tree_id: fileId,
    kind: 'file',
    parent_id: null,
    ancestors: [],
    depth: 0,
    path: '',
    order: 0,
    title: meta.title,
    url: page,
    source: file.source,
    description: meta.description,
    tags: [...(meta.settings.tags ?? [])],
    content_hash: ''
  })
  nodes.push(root)

  // Q/As by section index, in document order.
  const qaBySection = new Map<number, CompiledDetail['qa']>()
  for (const qa of detail.qa) {
    const list = qaBySection.get(qa.section)
    if (list) list.push(qa)
    else qaBySection.set(qa.section, [qa])
  }

  const sectionNodes: Array<SectionNode | undefined> = []
  const emitQa = (sectionIndex: number, parent: FileNode | SectionNode): void => {
    const section = detail.sections[sectionIndex]
    for (const qa of qaBySection.get(sectionIndex) ?? []) {
      const node: QaNode = {
        _id: unique(qa.id),
        project,
        tree_id: fileId,
        kind: 'qa',
        parent_id: parent._id,
        ancestors: [...parent.ancestors, parent._id],
        depth: parent.depth + 1,
        path: section?.number ?? '0',
        order: nodes.length,
        title: qa.questionText,
        url: page + '#' + qa.anchor,
        question: qa.question,
        answer: qa.answer,
        question_html: qa.questionHtml,
        answer_html: qa.answerHtml,
        anchor: qa.anchor,
        ...(qa.explicitId ? {explicit_id: qa.explicitId} : {}),
        chapter_tree: section && section.level > 0 ? [...section.chapterTree] : [],
        ...(qa.media && qa.media.length > 0 ? {media: [...qa.media]} : {}),
        content_hash: ''
      }
      nodes.push(finish(node))
    }
  }

  // Q/As before the first heading (or in a file without headings).
  detail.sections.forEach((section, index) => {
    if (section.level === 0) emitQa(index, root)
  })
  if (!detail.sections.some((section) => section.level === 0)) emitQa(-1, root)

  detail.sections.forEach((section, index) => {
    if (section.level === 0) return
    const parent = (section.parent >= 0 ? sectionNodes[section.parent] : undefined) ?? root
    const node: SectionNode = finish({
      _id: unique(fileId + '#' + section.slugPath),
      project,
      tree_id: fileId,
      kind: 'section',
      parent_id: parent._id,
      ancestors: [...parent.ancestors, parent._id],
      depth: parent.depth + 1,
      path: section.number,
      order: nodes.length,
      title: section.title,
      url: page + '#' + section.anchor,
      heading: section.text,
      level: section.level,
      anchor: section.anchor,
      chapter_tree: [...section.chapterTree],
      slug_path: section.slugPath,
      content_hash: ''
    })
    sectionNodes[index] = node
    nodes.push(node)
    emitQa(index, node)
  })
  // Sections come in document order, so parents precede children, but a
  // section's Q/As must precede its subsections: they do, since a section's
  // own text comes before its first subheading.
  return nodes
}

/** Set a node's `content_hash` from everything but `_id`, `order` and the timestamps. */
function finish<T extends DocumentNode>(node: T): T {
  node.content_hash = contentHash(node)
  return node
}

export function contentHash(node: DocumentNode): string {
  const {_id, order, content_hash, created_at, updated_at, ...content} = node
  void order
  void content_hash
  void created_at
  void updated_at
  // One-shot: a hash per node, ~150,000 of them at 10,000 files, where a Hash object costs about twice as much.
  return hash('sha256', schemaVersion + '\0' + _id + '\0' + JSON.stringify(content), 'hex').slice(0, 32)
}
