// The guard that parses each document with only the GFM constructs that could match in it: the same tree, with
// positions, as remark-gfm alone, on edge cases, on every Markdown file of the repository, and on seeded random
// documents built from the characters the guarded constructs start and end on.
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import type {Extension} from 'micromark-util-types'
import remarkFrontmatter from 'remark-frontmatter'
import remarkGfm from 'remark-gfm'
import remarkParse from 'remark-parse'
import {unified, type Processor} from 'unified'
import {describe, expect, it} from 'vitest'
import remarkGfmSyntaxGuard from '../plugins/remark-gfm-syntax-guard/index.js'
import remarkTag from '../plugins/remark-tag/index.js'

const plain = unified().use(remarkParse).use(remarkGfm).use(remarkFrontmatter, ['yaml']).use(remarkTag)
const guarded = unified().use(remarkParse).use(remarkGfm).use(remarkGfmSyntaxGuard).use(remarkFrontmatter, ['yaml']).use(remarkTag)

const tree = (processor: Processor, document: string) => JSON.stringify(processor.parse(document))

const edgeCases = [
  // Tables: pipes, and the pipe-less ones an alignment colon makes.
  '| a | b |\n| - | - |\n| 1 | 2 |',
  'a\n-:',
  'a\n:-',
  'a\n:-:\nb',
  'a\n---\n\nb\n- - -',
  'a | b\n--|--',
  '> a\n> -:',
  '- a\n  :-',
  // Tables in containers, after a paragraph, with pipe-less body rows, with CRLF and CR line endings, and lazy.
  '> | a | b |\n> | - | - |\n> | 1 | 2 |\n> 3\n\nafter',
  '1. item\n\n   | a |\n   | :-: |\n   | 1 |\n2. | b |\n   | - |',
  'para\n| a |\n| - |\nbody without pipes\n\n| c |\n|---|',
  '| a |\r\n| - |\r\n| 1 |\r\n\r\ntext',
  '| a |\r| - |\r| 1 |',
  '> | a |\n| - |',
  '| a |\n| - |\n> quote\n| 2 |',
  // Literals: each alone, shouted, next to brackets, in links, and the near misses.
  'mail a@b.example now',
  'a@b',
  'www.example.com and WWW.EXAMPLE.COM and wWw.x.y',
  'https://example.com/a?b#c and HTTP://X.Y',
  'http:/x and https:x and ftp://x.y',
  '[a@b.example](https://x.y) and [www.x.y] and [https://x.y',
  '![www.x.y](z) [^1] text\n\n[^1]: https://x.y',
  'someone&#64;example.com www&#46;x.y https&#58;//x.y',
  '`a@b.example` and `| a |`\n\n```\n| a |\n| - |\n```',
  '~~www.x.y~~ and *a@b.example* and _https://x.y_',
  '[T]Title with a@b.example[/T]\n\n[Q]Is www.x.y a link?[/Q] [A]Yes: https://x.y[/A]'
]

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, {recursive: true, encoding: 'utf8'})
    .filter((file) => file.endsWith('.md') && !file.includes('node_modules'))
    .map((file) => path.join(dir, file))
}

/** Seeded random documents over the characters the guarded constructs look at, so that near misses are common. */
function randomDocuments(count: number, seed: number): string[] {
  const pieces = ['|', '-', ':', ' ', '\n', '\n\n', '@', 'a', 'b.example', 'www.b.example', 'https://b.example', 'a@b.example', '\n-:\n', '\n|-|-|\n', '\n:-:\n', 'www.', 'WWW.', 'http', 's', '://', '[', ']', '(', ')', '^', '~', '*', '_', '`', '&#64;', '\\', '> ', '- ', '1. ', '[T]', '[/T]', '[Q]', '[A]', '[/A]']
  let state = seed
  const next = () => ((state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x80000000)
  return Array.from({length: count}, () => Array.from({length: 5 + Math.floor(next() * 40)}, () => pieces[Math.floor(next() * pieces.length)]).join(''))
}

describe('remark-gfm-syntax-guard', () => {
  it.each(edgeCases)('gives the tree remark-gfm gives: %j', (document) => {
    expect(tree(guarded, document)).toBe(tree(plain, document))
  })

  it('gives the same trees for every Markdown file of the repository', () => {
    const files = [...markdownFiles('content'), ...markdownFiles('test/fixtures'), ...markdownFiles('docs'), 'README.md']
    expect(files.length).toBeGreaterThan(40)
    for (const file of files) {
      const document = readFileSync(file, 'utf8')
      expect(tree(guarded, document), file).toBe(tree(plain, document))
    }
  })

  it('gives the same trees for 2,000 seeded random documents', () => {
    const seen = {table: 0, link: 0, none: 0}
    for (const document of randomDocuments(2000, 42)) {
      const expected = tree(plain, document)
      expect(tree(guarded, document), JSON.stringify(document)).toBe(expected)
      if (expected.includes('"type":"table"')) seen.table++
      if (expected.includes('"type":"link"')) seen.link++
      if (!expected.includes('"type":"table"') && !expected.includes('"type":"link"')) seen.none++
    }
    // The random documents reach both sides of every guard: tables, literals, and neither.
    expect(seen.table).toBeGreaterThan(20)
    expect(seen.link).toBeGreaterThan(20)
    expect(seen.none).toBeGreaterThan(20)
  })

  it('parses a document started inside another one\'s parse with its own constructs', () => {
    // A transform that parses a second document, with a table and an email, on the same processor mid-parse.
    const inner = 'see a@b.example and\n\n| x |\n| - |\n\nafter'
    const nested = (withGuard: boolean) => {
      const processor = unified().use(remarkParse).use(remarkGfm)
      processor.use(function (this: Processor) {
        const self = this
        ;(this.data().fromMarkdownExtensions ??= []).push({
          transforms: [
            (tree) => {
              const first = tree.children[0]
              const outer = first?.type === 'paragraph' && first.children[0]?.type === 'text' && first.children[0].value === 'outer'
              if (outer) (tree.data as Record<string, unknown> | undefined) = {inner: self.parse(inner)}
            }
          ]
        })
      })
      if (withGuard) processor.use(remarkGfmSyntaxGuard)
      // The outer document holds no `@`, so its own parse leaves the email literal out; the inner one needs it.
      const outer = processor.parse('outer\n\n| a |\n| - |\n') as unknown as {children: unknown[]; data: {inner: unknown}}
      return JSON.stringify([outer.children, outer.data.inner])
    }
    expect(nested(true)).toContain('"url":"mailto:a@b.example"')
    expect(nested(true)).toBe(nested(false))
  })

  it('leaves out a construct, by name, only where the document cannot hold it', () => {
    let tried = 0
    // A stand-in construct under GFM's email name, from another extension: counts its tries, never matches.
    const probe: Extension = {text: {97: {name: 'emailAutolink', tokenize: (_effects, _ok, nok) => (tried++, nok)}}}
    const processor = unified()
      .use(remarkParse)
      .use(function (this: Processor) {
        ;(this.data().micromarkExtensions ??= []).push(probe)
      })
      .use(remarkGfmSyntaxGuard)
    processor.parse('a plain line, and another one')
    expect(tried).toBe(0)
    processor.parse('a line with an @ sign')
    expect(tried).toBeGreaterThan(0)
  })
})
