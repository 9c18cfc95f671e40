import type {Nodes, Root} from 'mdast'
import type {Extension, Transform} from 'mdast-util-from-markdown'
import {gfmAutolinkLiteralFromMarkdown} from 'mdast-util-gfm-autolink-literal'
import type {Processor} from 'unified'

/** GFM's search for autolink literals (`www.example.com`, `https://…`, `someone@example.com`) in text. */
const search = gfmAutolinkLiteralFromMarkdown().transforms?.[0]

/**
 * Skip GFM's search for autolink literals in a document where no text could
 * hold one. The tokenizer links most literals itself; after the parse,
 * remark-gfm also searches the text for the ones it could not see (such as an
 * `@` written as `&#64;`), with one full walk of the tree for each of its four
 * patterns, each walk paying unist-util-visit's bookkeeping for every node: in
 * the bench corpus, the most expensive part of the compile after micromark,
 * for nothing in most files. One plain walk first asks whether any text outside
 * a link holds `@`, `http://`, `https://` or `www.` (every pattern needs one;
 * text nodes hold decoded references); if one does, GFM's search runs
 * unchanged. Use after remark-gfm.
 */
export default function remarkGfmAutolinkGuard(this: Processor): undefined {
  const data = this.data()
  if (!search || !data.fromMarkdownExtensions) return
  data.fromMarkdownExtensions = data.fromMarkdownExtensions.map(guard)
}

function guard(extension: Extension | Extension[]): Extension | Extension[] {
  if (Array.isArray(extension)) return extension.map((item) => guard(item) as Extension)
  if (!extension.transforms?.includes(search as Transform)) return extension
  return {...extension, transforms: extension.transforms.map((transform) => (transform === search ? guarded : transform))}
}

function guarded(tree: Root): undefined {
  if (mayHoldLiteral(tree)) (search as Transform)(tree)
}

const literalStart = /https?:\/\/|www\./i

/** Whether a text node outside links (the nodes GFM's search looks at) holds what every pattern starts from. */
function mayHoldLiteral(node: Nodes): boolean {
  if (node.type === 'text') return node.value.includes('@') || literalStart.test(node.value)
  if (node.type === 'link' || node.type === 'linkReference' || !('children' in node)) return false
  for (const child of node.children) if (mayHoldLiteral(child)) return true
  return false
}
