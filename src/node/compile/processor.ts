import type {Root as HastRoot} from 'hast'
import type {Root} from 'mdast'
import rehypeStringify from 'rehype-stringify'
import remarkFrontmatter from 'remark-frontmatter'
import remarkGfm from 'remark-gfm'
import remarkParse from 'remark-parse'
import remarkRehype from 'remark-rehype'
import {unified, type Processor} from 'unified'
import {tagToHast} from '../../../plugins/mdast-util-tag/index.js'
import rehypeAnchors from '../../../plugins/rehype-anchors/index.js'
import rehypeCode, {type Highlight} from '../../../plugins/rehype-code/index.js'
import rehypeLinks, {type Options as LinkOptions} from '../../../plugins/rehype-links/index.js'
import rehypeTaskLabels from '../../../plugins/rehype-task-labels/index.js'
import remarkGfmAutolinkGuard from '../../../plugins/remark-gfm-autolink-guard/index.js'
import remarkGfmSyntaxGuard from '../../../plugins/remark-gfm-syntax-guard/index.js'
import remarkMatter from '../../../plugins/remark-matter/index.js'
import remarkQa from '../../../plugins/remark-qa/index.js'
import remarkReaders from '../../../plugins/remark-readers/index.js'
import remarkSections from '../../../plugins/remark-sections/index.js'
import remarkTag from '../../../plugins/remark-tag/index.js'

export interface ProcessorOptions {
  highlight?: Highlight | undefined
  resolve: LinkOptions['resolve']
}

export type TagpressProcessor = Processor<Root, Root, HastRoot, HastRoot, string>

/**
 * The one pipeline: every output (page, records, search, trees, cards) comes
 * from this parse. Order matters: tags are paired before sections read
 * topics, questions are paired once sections exist, and the readers take the
 * markers out before anything becomes HTML.
 */
export function createProcessor(options: ProcessorOptions): TagpressProcessor {
  return unified()
    .use(remarkParse)
    .use(remarkGfm)
    .use(remarkGfmSyntaxGuard)
    .use(remarkGfmAutolinkGuard)
    .use(remarkFrontmatter, ['yaml'])
    .use(remarkTag)
    .use(remarkMatter)
    .use(remarkSections)
    .use(remarkQa)
    .use(remarkReaders)
    .use(remarkRehype, {allowDangerousHtml: true, handlers: tagToHast})
    .use(rehypeCode, {highlight: options.highlight})
    .use(rehypeAnchors)
    .use(rehypeTaskLabels)
    .use(rehypeLinks, {resolve: options.resolve})
    .use(rehypeStringify, {allowDangerousHtml: true}) as unknown as TagpressProcessor
}
