import type {Block, Chapter} from '../../../plugins/remark-readers/index.js'
import type {QaPair} from '../../../plugins/remark-qa/index.js'
import type {Section} from '../../../plugins/remark-sections/index.js'

/** Where a record sits: the chapter id and tree of its section (`0` and `[]` before the first heading). */
function place(sections: readonly Section[], index: number): {chapter_id: string; chapter_tree: string[]} {
  const section = sections[index]
  return section ? {chapter_id: section.number, chapter_tree: section.chapterTree} : {chapter_id: '0', chapter_tree: []}
}

/** One block item (SPEC §2): `id` is `<file_id>#block<block_index>`. */
export function blockRecord(fileId: string, block: Block, sections: readonly Section[]): string {
  const {chapter_id, chapter_tree} = place(sections, block.section)
  return JSON.stringify({
    id: fileId + '#block' + block.index,
    file_id: fileId,
    block_index: block.index,
    kind: block.kind,
    ...(block.lang ? {lang: block.lang} : {}),
    chapter_id,
    chapter_tree,
    content: block.content
  })
}

/** One chapter item: a section with its subsections. */
export function chapterRecord(fileId: string, chapter: Chapter, sections: readonly Section[], pageTitle: string): string {
  const section = sections[chapter.section]
  const {chapter_id, chapter_tree} = place(sections, chapter.section)
  return JSON.stringify({
    file_id: fileId,
    chapter_id,
    chapter_tree,
    title: section && section.level > 0 ? section.title : pageTitle,
    level: section?.level ?? 0,
    content: chapter.content
  })
}

/** One Q/A pair; `id` is stable (explicit id, else the question's slug). */
export function qaRecord(fileId: string, qa: QaPair, sections: readonly Section[], pagePath: string): string {
  const {chapter_id, chapter_tree} = place(sections, qa.section)
  return JSON.stringify({
    id: fileId + '#' + qa.anchor,
    file_id: fileId,
    chapter_id,
    chapter_tree,
    question: qa.question,
    answer: qa.answer,
    url: pagePath + '#' + qa.anchor
  })
}
