import type {SectionInfo} from '../compile/types.js'
import type {TocItem} from './page-model.js'

/** Deepest heading level the "On this page" outline shows. */
const maxLevel = 4

/** The page's outline: its sections from level 2 down, nested as the headings are. */
export function buildToc(sections: readonly SectionInfo[]): TocItem[] {
  const top: TocItem[] = []
  const items = new Map<number, TocItem>()
  sections.forEach((section, index) => {
    if (section.level < 2 || section.level > maxLevel) return
    const item: TocItem = {title: section.text, anchor: section.anchor, level: section.level, number: section.number, children: []}
    items.set(index, item)
    let parent = section.parent
    while (parent !== -1 && !items.has(parent)) parent = sections[parent]?.parent ?? -1
    const holder = parent === -1 ? undefined : items.get(parent)
    if (holder) holder.children.push(item)
    else top.push(item)
  })
  return top
}
