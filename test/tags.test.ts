import type {Root} from 'mdast'
import remarkGfm from 'remark-gfm'
import remarkParse from 'remark-parse'
import {unified} from 'unified'
import {describe, expect, it} from 'vitest'
import remarkTag from '../plugins/remark-tag/index.js'
import {compile} from './helpers/compile.js'

function tree(markdown: string, withTags: boolean): Root {
  const processor = unified().use(remarkParse).use(remarkGfm)
  if (withTags) processor.use(remarkTag)
  return processor.runSync(processor.parse(markdown)) as Root
}

describe('tags are syntax, not text', () => {
  it('changes nothing in a document without tags', () => {
    const documents = [
      '# Title\n\nSome *text* with [a link](x.md) and [ref][r] and [^1].\n\n[r]: http://example.com\n[^1]: A footnote.\n',
      '- [ ] task\n- [X] done\n\n| a | b |\n| - | - |\n| [c] | [/] |\n',
      'Brackets: [/], [A], [/a], [Q /], [ /Q], [/OK], [OK/] and [/Q ] stay text.\n\n```\n[/Q]x[Q/]\n```\n',
      '> quote [x]\n>\n> more\n\n    indented [/Q]\n\n<div>[/A]</div>\n'
    ]
    for (const document of documents) expect(tree(document, true)).toEqual(tree(document, false))
  })

  it('keeps tags literal in code, HTML, link destinations and after a backslash', async () => {
    const source = [
      '# Literal',
      '',
      'Inline `[/Q]x[Q/]`, escaped \\[/Q]y\\[Q/], a [link](https://example.com/a[/Q]b) and <span title="[/A]">html</span>.',
      '',
      '```text',
      '[/Q]fenced[Q/] [/BLOCKREAD/]',
      '```',
      '',
      '    [/A]indented[A/]',
      '',
      '<div>[/CHAPTREEREAD/]</div>',
      ''
    ].join('\n')
    const {compiled, qa, blocks, chapters, errors} = await compile(source)
    expect(errors).toEqual([])
    expect(qa).toEqual([])
    expect(blocks).toEqual([])
    expect(chapters).toEqual([])
    expect(compiled.html).toContain('<code>[/Q]x[Q/]</code>')
    expect(compiled.html).toContain('escaped [/Q]y[Q/]')
    expect(compiled.html).toContain('href="https://example.com/a%5B/Q%5Db"')
    expect(compiled.html).toContain('<span title="[/A]">html</span>')
    expect(compiled.html).toContain('<div>[/CHAPTREEREAD/]</div>')
  })

  it('reports positions of tags exactly', async () => {
    const {errors} = await compile('# A\n\nText [/Q]open\n')
    expect(errors).toEqual(['3:6 TP001 Expected a closing `[Q/]` for `[/Q]` before the end of the paragraph'])
  })
})

describe('questions and answers', () => {
  it('pairs a question and answer in one paragraph', async () => {
    const {qa} = await compile('# Install\n\n[/Q]How?[Q/] [/A]With `npm`.[A/]\n')
    expect(qa.map((pair) => [pair.question, pair.answer])).toEqual([['How?', 'With `npm`.']])
  })

  it('lets an answer span blocks, from the start of one to the end of a later one', async () => {
    const source = '# Install\n\n[/Q]How?[Q/]\n\n[/A]Three steps:\n\n1. Clone.\n2. Run `npm install`.[A/]\n\nAfter.\n'
    const {qa, compiled} = await compile(source)
    expect(qa.map((pair) => pair.answer)).toEqual(['Three steps:\n\n1. Clone.\n2. Run `npm install`.'])
    expect(compiled.html).toContain('<div class="tp-answer" data-question="q-how">\n<p>Three steps:</p>\n<ol>')
    expect(compiled.html).toContain('<li>Run <code>npm install</code>.</li>\n</ol>\n</div>\n<p>After.</p>')
  })

  it('accepts tags alone on their lines around an answer spanning blocks', async () => {
    const source = '# Install\n\n[/Q]How?[Q/]\n[/A]\nFirst paragraph.\n\n```sh\nnpm install\n```\n[A/]\n'
    const {qa, errors} = await compile(source)
    expect(errors).toEqual([])
    expect(qa.map((pair) => pair.answer)).toEqual(['First paragraph.\n\n```sh\nnpm install\n```'])
  })

  it('ends a multi-block answer inside a list item or a quote, and dedents answers in containers', async () => {
    const list = await compile('# A\n\n[/Q]Steps?[Q/]\n\n[/A]Do this:\n\n- one\n- two[A/]\n')
    expect(list.qa.map((pair) => pair.answer)).toEqual(['Do this:\n\n- one\n- two'])
    const quote = await compile('# A\n\n> [/Q]Why?[Q/]\n>\n> [/A]Because\n> it is.\n>\n> Really.[A/]\n')
    expect(quote.errors).toEqual([])
    expect(quote.qa.map((pair) => pair.answer)).toEqual(['Because\nit is.\n\nReally.'])
  })

  it('keeps balanced tags inside an answer as literal text, in records and on the page', async () => {
    const {qa, compiled, errors} = await compile('# Cards\n\n[/Q]What is a card?[Q/]\n[/A]Each [/Q]...[Q/] is a card front, and [/BLOCKREAD/] stays too.[A/]\n')
    expect(errors).toEqual([])
    expect(qa.map((pair) => pair.answer)).toEqual(['Each [/Q]...[Q/] is a card front, and [/BLOCKREAD/] stays too.'])
    expect(compiled.html).toContain('<span class="tp-answer" data-question="q-what-is-a-card">Each [/Q]...[Q/] is a card front, and [/BLOCKREAD/] stays too.</span>')
  })

  it('pairs questions and answers in list items, quotes and table cells in document order', async () => {
    const source = [
      '# FAQ',
      '',
      '- [/Q]One?[Q/] [/A]First.[A/]',
      '- [/Q]Two?[Q/] [/A]Second.[A/]',
      '',
      '> [/Q]Three?[Q/]',
      '> [/A]Third.[A/]',
      '',
      '| question | answer |',
      '| --- | --- |',
      '| [/Q]Four?[Q/] | [/A]Fourth.[A/] |',
      ''
    ].join('\n')
    const {qa, errors} = await compile(source)
    expect(errors).toEqual([])
    expect(qa.map((pair) => [pair.question, pair.answer])).toEqual([
      ['One?', 'First.'],
      ['Two?', 'Second.'],
      ['Three?', 'Third.'],
      ['Four?', 'Fourth.']
    ])
  })

  it('takes a heading as a question, answered in its section', async () => {
    const {qa, compiled, errors} = await compile('# FAQ\n\n## [/Q]How do I install it?[Q/]\n\n[/A]Run `npm install`.[A/]\n')
    expect(errors).toEqual([])
    expect(qa).toEqual([
      {
        id: 'guide/intro#q-how-do-i-install-it', file_id: 'guide/intro', chapter_id: '1.1', chapter_tree: ['FAQ', 'How do I install it?'],
        question: 'How do I install it?', answer: 'Run `npm install`.', url: 'guide/intro.html#q-how-do-i-install-it'
      }
    ])
    expect(compiled.html).toContain('<h2 id="how-do-i-install-it" class="tp-question-heading"><span class="tp-question" id="q-how-do-i-install-it">')
  })

  it('uses explicit ids for Q/A and sections', async () => {
    const {qa, compiled} = await compile('# [/T#setup]Setting up[T/]\n\n[/Q#install-node]How do I get Node?[Q/] [/A]From nodejs.org.[A/]\n')
    expect(qa.map((pair) => pair.id)).toEqual(['guide/intro#install-node'])
    expect(compiled.sections.map((section) => [section.anchor, section.slugPath])).toEqual([['setup', 'setup']])
  })
})

describe('sections', () => {
  it('numbers sections by nesting and titles them by topic', async () => {
    const source = '# Guide\n\n### Deep\n\n## Installing [/T]tagpress[T/] from npm\n\n# Second\n\n## Child\n'
    const {compiled} = await compile(source)
    expect(compiled.sections.map((section) => [section.number, section.title, section.text, section.chapterTree])).toEqual([
      ['1', 'Guide', 'Guide', ['Guide']],
      ['1.1', 'Deep', 'Deep', ['Guide', 'Deep']],
      ['1.2', 'tagpress', 'Installing tagpress from npm', ['Guide', 'tagpress']],
      ['2', 'Second', 'Second', ['Second']],
      ['2.1', 'Child', 'Child', ['Second', 'Child']]
    ])
    expect(compiled.html).toContain('<h2 id="tagpress">Installing <span class="tp-topic">tagpress</span> from npm')
  })

  it('gives unicode titles readable slugs and numbers colliding ones', async () => {
    const source = '# Über Straße\n\n## 日本語の見出し\n\n## Intro\n\n## Intro\n\n[/Q]Intro?[Q/] [/A]Yes.[A/]\n\n[/Q]Intro?[Q/] [/A]Again.[A/]\n'
    const {compiled} = await compile(source)
    expect(compiled.sections.map((section) => section.anchor)).toEqual(['über-straße', '日本語の見出し', 'intro', 'intro-1'])
    expect(compiled.qa.map((pair) => pair.anchor)).toEqual(['q-intro', 'q-intro-1'])
    expect(compiled.sections.map((section) => section.slugPath)).toEqual(['über-straße', 'über-straße/日本語の見出し', 'über-straße/intro', 'über-straße/intro'])
  })

  it('puts text before the first heading in section 0', async () => {
    const {blocks} = await compile('Intro text. [/BLOCKREAD/]\n\n# Title\n')
    expect(blocks).toEqual([
      {id: 'guide/intro#block1', file_id: 'guide/intro', block_index: 1, kind: 'paragraph', chapter_id: '0', chapter_tree: [], content: 'Intro text.'}
    ])
  })
})

describe('readers', () => {
  it('starts a second [/BLOCKREAD/] after the first, and reads a marked list whole', async () => {
    const source = '# A\n\nOne. [/BLOCKREAD/]\n\nTwo.\n\n- three\n- four [/BLOCKREAD/]\n- five\n\n## B\n\nSix.\n'
    const {blocks, compiled} = await compile(source)
    expect(blocks.map((block) => [block.block_index, block.kind, block.content])).toEqual([
      [1, 'heading', '# A'],
      [2, 'paragraph', 'One.'],
      [3, 'paragraph', 'Two.'],
      [4, 'list', '- three\n- four\n- five']
    ])
    expect(compiled.html).toContain('<li>four</li>')
  })

  it('drops a list item a marker empties, and reads a section once for several markers', async () => {
    const source = '# A\n\n- one\n- [/CHAPTREEREAD/]\n\n[/CHAPTREEREAD/]\n'
    const {chapters, compiled} = await compile(source)
    expect(chapters.map((chapter) => chapter.content)).toEqual(['# A\n\n- one'])
    expect(compiled.html).toContain('<ul>\n<li>one</li>\n</ul>')
    expect(compiled.html).not.toContain('<li></li>')
  })

  it('reads every block and section with blockread: all and chaptread: all', async () => {
    const source = '---\nblockread: all\nchaptread: all\n---\n\n# A\n\nText.\n\n## B\n\nMore.\n'
    const {blocks, chapters} = await compile(source)
    expect(blocks.map((block) => block.content)).toEqual(['# A', 'Text.', '## B', 'More.'])
    expect(chapters.map((chapter) => [chapter.chapter_id, chapter.content])).toEqual([
      ['1', '# A\n\nText.\n\n## B\n\nMore.'],
      ['1.1', '## B\n\nMore.']
    ])
  })

  it('takes folder defaults and lets front matter override them', async () => {
    const {blocks} = await compile('# A\n\nText.\n', 'notes/a.md', {blockread: 'all'})
    expect(blocks.length).toBe(2)
    const off = await compile('---\nblockread: false\n---\n# A\n\nText.\n', 'notes/a.md', {blockread: 'all'})
    expect(off.blocks.length).toBe(0)
  })
})
