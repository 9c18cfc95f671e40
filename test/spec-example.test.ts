import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {compile} from './helpers/compile.js'

// The SPEC's example document, compiled as `guide/intro.md`. Every expectation
// below is worked out by hand from the SPEC's rules (§1), not copied from output.
const source = readFileSync(new URL('./fixtures/spec-example.md', import.meta.url), 'utf8')

const top = 'Laegna AI Training Overview'
const blockReader = 'Block Reader Explanation'
const sample = 'Sample code block'
const chapterReader = 'Chapter Tree Reader Explanation'

describe('the SPEC example', () => {
  it('compiles without messages', async () => {
    const {compiled} = await compile(source)
    expect(compiled.messages).toEqual([])
  })

  it('gives the block items each [/BLOCKREAD/] covers', async () => {
    const {blocks} = await compile(source)
    // Blocks, in order: 1 h1, 2 welcome paragraph (marker 1 covers 1–2: section 1 from its heading),
    // 3 h2, 4 paragraph, 5 the Q/A paragraph (the marker alone on its line is not a block;
    // marker 2 covers 3–5), 6 h3, 7 code, 8 paragraph (marker 3 covers 6–8). Section 1.2 has none.
    expect(blocks).toEqual([
      {id: 'guide/intro#block1', file_id: 'guide/intro', block_index: 1, kind: 'heading', chapter_id: '1', chapter_tree: [top], content: '# ' + top},
      {
        id: 'guide/intro#block2', file_id: 'guide/intro', block_index: 2, kind: 'paragraph', chapter_id: '1', chapter_tree: [top],
        content: 'Welcome to the LaegnaAITraining demo. In this document, we will see how block and chapter readers work.'
      },
      {id: 'guide/intro#block3', file_id: 'guide/intro', block_index: 3, kind: 'heading', chapter_id: '1.1', chapter_tree: [top, blockReader], content: '## ' + blockReader},
      {
        id: 'guide/intro#block4', file_id: 'guide/intro', block_index: 4, kind: 'paragraph', chapter_id: '1.1', chapter_tree: [top, blockReader],
        // The tag in inline code is literal and stays.
        content: 'The block reader is triggered when we include the tag `[/BLOCKREAD/]` in the text.'
      },
      {
        id: 'guide/intro#block5', file_id: 'guide/intro', block_index: 5, kind: 'paragraph', chapter_id: '1.1', chapter_tree: [top, blockReader],
        content:
          'What does the block reader do?\nIt processes each block (like a title, paragraph, or code block) and stores it as a Q/A-style training item, where Q is a unique identifier (file and block index) and A is the block content.'
      },
      {id: 'guide/intro#block6', file_id: 'guide/intro', block_index: 6, kind: 'heading', chapter_id: '1.1.1', chapter_tree: [top, blockReader, sample], content: '### ' + sample},
      // This one is the SPEC's own sample record.
      {
        id: 'guide/intro#block7', file_id: 'guide/intro', block_index: 7, kind: 'code', lang: 'python', chapter_id: '1.1.1',
        chapter_tree: [top, blockReader, sample], content: 'def hello():\n    print("Hello, Laegna!")'
      },
      {
        id: 'guide/intro#block8', file_id: 'guide/intro', block_index: 8, kind: 'paragraph', chapter_id: '1.1.1', chapter_tree: [top, blockReader, sample],
        content: 'This code block is another example that the block reader will capture.'
      }
    ])
  })

  it('gives one chapter item for the section holding [/CHAPTREEREAD/]', async () => {
    const {chapters} = await compile(source)
    expect(chapters).toEqual([
      {
        file_id: 'guide/intro',
        chapter_id: '1.2',
        chapter_tree: [top, chapterReader],
        title: chapterReader,
        level: 2,
        content:
          '## ' + chapterReader + '\n\nThe chapter tree reader is triggered by the tag `[/CHAPTREEREAD/]`.\n\n' +
          'Why is the chapter tree representation helpful?\nBecause the model can see how high-level topics subdivide into subtopics and detailed explanations.'
      }
    ])
  })

  it('gives both Q/A pairs with stable ids and page URLs', async () => {
    const {qa} = await compile(source)
    expect(qa).toEqual([
      {
        id: 'guide/intro#q-what-does-the-block-reader-do', file_id: 'guide/intro', chapter_id: '1.1', chapter_tree: [top, blockReader],
        question: 'What does the block reader do?',
        answer:
          'It processes each block (like a title, paragraph, or code block) and stores it as a Q/A-style training item, where Q is a unique identifier (file and block index) and A is the block content.',
        url: 'guide/intro.html#q-what-does-the-block-reader-do'
      },
      {
        id: 'guide/intro#q-why-is-the-chapter-tree-representation-helpful', file_id: 'guide/intro', chapter_id: '1.2', chapter_tree: [top, chapterReader],
        question: 'Why is the chapter tree representation helpful?',
        answer: 'Because the model can see how high-level topics subdivide into subtopics and detailed explanations.',
        url: 'guide/intro.html#q-why-is-the-chapter-tree-representation-helpful'
      }
    ])
  })

  it('keeps every tag out of the HTML and renders Q/A as linkable elements', async () => {
    const {compiled} = await compile(source)
    const html = compiled.html.replace(/<code>[^<]*<\/code>/g, '')
    expect(html).not.toMatch(/\[\/?(Q|A|T|BLOCKREAD|CHAPTREEREAD)\/?\]/)
    expect(compiled.html).toContain('<code>[/BLOCKREAD/]</code>')
    expect(compiled.html).toContain('<span class="tp-question" id="q-what-does-the-block-reader-do">What does the block reader do?')
    expect(compiled.html).toContain('<span class="tp-answer" data-question="q-what-does-the-block-reader-do">It processes each block')
    expect(compiled.html).toContain('<h2 id="block-reader-explanation">')
  })
})
