// The guard in front of GFM's autolink-literal search: the same HTML as remark-gfm alone for every kind of literal
// (and for text that only looks close), and GFM's own search no longer runs on every tree.
import {gfmAutolinkLiteralFromMarkdown} from 'mdast-util-gfm-autolink-literal'
import rehypeStringify from 'rehype-stringify'
import remarkGfm from 'remark-gfm'
import remarkParse from 'remark-parse'
import remarkRehype from 'remark-rehype'
import {unified} from 'unified'
import {describe, expect, it} from 'vitest'
import remarkGfmAutolinkGuard from '../plugins/remark-gfm-autolink-guard/index.js'

const plain = unified().use(remarkParse).use(remarkGfm).use(remarkRehype).use(rehypeStringify)
const guarded = unified().use(remarkParse).use(remarkGfm).use(remarkGfmAutolinkGuard).use(remarkRehype).use(rehypeStringify)

const inputs = [
  'Write to someone@example.com or see www.example.com and https://example.com/a?b=c.',
  'Shouting: HTTP://EXAMPLE.COM and WWW.EXAMPLE.COM.',
  'Schemes: mailto:a@b.example and xmpp:a@b.example/res.',
  // Only GFM's search finds these (the tokenizer sees `&#64;`, not `@`): each one alone in its document.
  'A reference that decodes to an at sign: someone&#64;example.com.',
  'A reference that decodes to the dot of www: www&#46;example.com.',
  'A reference that decodes to the colon of a scheme: https&#58;//example.com.',
  'In a link the text stays: [someone@example.com](https://example.com) and [www.example.com][ref].\n\n[ref]: https://example.com',
  'In a table:\n\n| a | b |\n| - | - |\n| x@y.example | https://z.example |',
  '> Quoted: *www.example.com* and **a@b.example**\n\n- listed https://example.com',
  'Nothing to link: an @ alone, www without a dot, http:/ half, example.com bare, `code@example.com` in code.',
  'No candidates at all, just text with [a link](https://example.com) and ![an image](https://example.com/x.png).'
]

describe('remark-gfm-autolink-guard', () => {
  it.each(inputs)('gives the HTML remark-gfm gives: %s', async (input) => {
    expect(String(await guarded.process(input))).toBe(String(await plain.process(input)))
  })

  it('replaces GFM\'s own search in the parser\'s extensions', () => {
    const search = gfmAutolinkLiteralFromMarkdown().transforms?.[0]
    expect(search).toBeTypeOf('function')
    const transforms = (processor: ReturnType<typeof unified>) =>
      ((processor.freeze().data().fromMarkdownExtensions ?? []).flat() as Array<{transforms?: unknown[]}>).flatMap((extension) => extension.transforms ?? [])
    expect(transforms(unified().use(remarkParse).use(remarkGfm))).toContain(search)
    const after = transforms(unified().use(remarkParse).use(remarkGfm).use(remarkGfmAutolinkGuard))
    expect(after).not.toContain(search)
    expect(after).toHaveLength(1)
  })
})
