import type {Root} from 'mdast'
import type {} from 'remark-parse'
import type {} from 'remark-stringify'
import type {Processor} from 'unified'
import type {VFile} from 'vfile'
import {tagSyntax, type Options} from '../micromark-extension-tag/index.js'
import {tagFromMarkdown, tagToMarkdown} from '../mdast-util-tag/index.js'
import {pairTags} from './pair.js'

export type {Options}
export type {TagRange} from './types.js'

/**
 * Add tagpress tags (`[/Q]…[Q/]`, `[/BLOCKREAD/]`, …): syntax, tree, serialization,
 * and pairing of open and close tags into `tagPhrase` and `tagBlock` elements.
 *
 * Semantics (questions, sections, readers) live in their own plugins.
 */
export default function remarkTag(this: Processor, options?: Options | null) {
  const data = this.data()
  ;(data.micromarkExtensions ??= []).push(tagSyntax(options))
  ;(data.fromMarkdownExtensions ??= []).push(tagFromMarkdown())
  ;(data.toMarkdownExtensions ??= []).push(tagToMarkdown())
  return (tree: Root, file: VFile): undefined => {
    pairTags(tree, file)
  }
}
