import {createHash} from 'node:crypto'
import {closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {alpacaPrompt, fence, toInstruction, toText, wellFormed} from '../src/node/datasets/records.js'
import {splitPoint} from '../src/node/datasets/split.js'
import {tokenCounter} from '../src/node/datasets/tokens.js'
import {LayoutBuilder, SpeculativeFiles, type StreamStat} from '../src/node/litgpt/layout.js'
import {SegmentFileWriter} from '../src/node/litgpt/segments.js'
import {checkJsonFolder, checkJsonl, checkTextFolders} from './fixtures/litgpt/schema.js'
import {Project} from './helpers/project.js'

const repo = path.join(import.meta.dirname, '..')
const projects: Project[] = []
function track(project: Project): Project {
  projects.push(project)
  return project
}
afterAll(() => {
  for (const project of projects) project.dispose()
})

const approx = (text: string): number => Math.ceil(Buffer.byteLength(text) / 4)
const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex')

function litgptFiles(project: Project): string[] {
  const root = path.join(project.dir, 'out/datasets/litgpt')
  return (readdirSync(root, {recursive: true, encoding: 'utf8'}) as string[])
    .filter((name) => /\.(jsonl|txt|json|md)$/.test(name))
    .map((name) => name.split(path.sep).join('/'))
    .sort()
}

describe('LitGPT corpora (out/datasets/litgpt/)', () => {
  it('writes folders that LitGPT 0.5 loads as they are, for the example site', () => {
    const p = track(Project.copyOf(repo))
    p.write('../tagpress.config.json', JSON.stringify({litgpt: {contextLength: 128, microBatchSize: 2, textFileBytes: 8192, license: 'CC-BY-4.0'}}))
    const {status} = p.build()
    expect(status).toBe(0)
    const dir = path.join(p.dir, 'out/datasets/litgpt')
    for (const folder of ['qa', 'blocks', 'chapters', 'all']) expect(checkJsonFolder(path.join(dir, folder))).toEqual([])
    for (const split of ['train', 'val']) {
      const chat = readFileSync(path.join(dir, 'chat', split + '.jsonl'), 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line))
      const all = readFileSync(path.join(dir, 'all', split + '.jsonl'), 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line))
      expect(chat.map((record) => record.id)).toEqual(all.map((record) => record.id))
      for (const record of chat) {
        expect(record.messages.map((message: {role: string}) => message.role)).toEqual(['user', 'assistant'])
        expect(typeof record.messages[1].content).toBe('string')
      }
    }
    expect(checkTextFolders(path.join(dir, 'text/train'), path.join(dir, 'text/val'), 2 * (128 + 1), approx)).toEqual([])
    // Packed to about textFileBytes: several training files.
    expect(readdirSync(path.join(dir, 'text/train')).length).toBeGreaterThan(1)

    // Every record of the datasets is in exactly one split (a kind with many records never needs both).
    const count = (file: string): number => readFileSync(file, 'utf8').split('\n').filter(Boolean).length
    for (const [kind, source] of [['qa', 'qa'], ['blocks', 'blocks'], ['chapters', 'chapters']]) {
      expect(count(path.join(dir, kind, 'train.jsonl')) + count(path.join(dir, kind, 'val.jsonl'))).toBe(count(path.join(p.dir, 'out/datasets', source + '.jsonl')))
    }

    // Provenance: the manifest lists every file with its records and SHA-256; the card names the build and the sources.
    const manifest = JSON.parse(p.read('out/manifest.json'))
    const listed = Object.keys(manifest.outputs).filter((key) => key.startsWith('datasets/litgpt/')).map((key) => key.slice('datasets/litgpt/'.length)).sort()
    expect(listed).toEqual(litgptFiles(p))
    for (const file of listed) expect(manifest.outputs['datasets/litgpt/' + file].sha256).toBe(sha(path.join(dir, file)))
    expect(manifest.outputs['datasets/litgpt/qa/train.jsonl'].records).toBe(count(path.join(dir, 'qa/train.jsonl')))
    const readme = p.read('out/datasets/litgpt/README.md')
    expect(readme).toContain(manifest.build_id)
    expect(readme).toContain('license: CC-BY-4.0')
    expect(readme).toContain('litgpt finetune_lora <checkpoint_dir> --data JSON --data.json_path out/datasets/litgpt/qa --data.mask_prompt true --train.max_seq_length 128')
    expect(readme).toContain('--data TextFiles --data.train_data_path out/datasets/litgpt/text/train --data.val_data_path out/datasets/litgpt/text/val --train.max_seq_length 128 --train.micro_batch_size 2')
    expect(readme).toContain(manifest.outputs['datasets/litgpt/qa/train.jsonl'].sha256)
    const sources = readFileSync(path.join(dir, 'sources.jsonl'), 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line))
    for (const source of sources) expect(source.sha256).toBe(manifest.sources[source.source])
    const stats = JSON.parse(p.read('out/datasets/litgpt/stats.json'))
    expect(stats.files['qa/train.jsonl'].records).toBe(count(path.join(dir, 'qa/train.jsonl')))
    expect(stats.files['qa/train.jsonl'].tokens).toBeGreaterThan(0)
  })

  it('gives a small corpus (under 20 records) a validation set, and a single record both splits', () => {
    const p = track(
      new Project({
        'a.md': '# A\n\n[/Q]One?[Q/] [/A]1.[A/]\n\n[/Q]Two?[Q/] [/A]2.[A/]\n\n[/Q]Three?[Q/] [/A]3.[A/]\n\nSome text. [/BLOCKREAD/]\n',
        'b.md': '# B\n\n[/Q]Four?[Q/] [/A]4.[A/]\n\n## Sub\n\nMore. [/CHAPTREEREAD/]\n'
      })
    )
    p.write('../tagpress.config.json', JSON.stringify({litgpt: {contextLength: 16, microBatchSize: 1}}))
    const {status, stderr} = p.build()
    expect(status).toBe(0)
    const dir = path.join(p.dir, 'out/datasets/litgpt')
    for (const folder of ['qa', 'blocks', 'chapters', 'all']) expect(checkJsonFolder(path.join(dir, folder))).toEqual([])
    const lines = (file: string): string[] => readFileSync(path.join(dir, file), 'utf8').trimEnd().split('\n')
    expect(lines('qa/train.jsonl').length + lines('qa/val.jsonl').length).toBe(4)
    // One chapter item: in both.
    expect(lines('chapters/train.jsonl')).toEqual(lines('chapters/val.jsonl'))
    expect(checkTextFolders(path.join(dir, 'text/train'), path.join(dir, 'text/val'), 17, approx)).toEqual([])
    // contextLength 16: some records are longer, and the build says so.
    expect(stderr).toMatch(/longer than litgpt\.contextLength \(16 tokens, estimated\)/)
  })

  it('rewrites only what an edit changes, and ends byte-identical to a clean build', () => {
    const files: Record<string, string> = {}
    for (let index = 0; index < 30; index++) files[`notes/n${index}.md`] = `# Note ${index}\n\n[/Q]What is note ${index}?[Q/] [/A]Note ${index} is a note.[A/]\n\nText of note ${index}. [/BLOCKREAD/]\n`
    const p = track(new Project(files))
    p.write('../tagpress.config.json', JSON.stringify({litgpt: {contextLength: 32, textFileBytes: 1024}}))
    p.build()
    const before = p.snapshot('out/datasets/litgpt')
    expect(p.build().stats.compiled).toBe(0)
    expect(p.snapshot('out/datasets/litgpt')).toEqual(before)
    p.write('notes/n7.md', '# Note 7\n\n[/Q]What is note 7?[Q/] [/A]Note 7 changed.[A/]\n\nText of note 7. [/BLOCKREAD/]\n')
    p.build()
    const after = p.snapshot('out/datasets/litgpt')
    const changed = [...after.keys()].filter((file) => after.get(file) !== before.get(file))
    // The files holding note 7's records, and the card; not the folders it is absent from.
    expect(changed).toContain('README.md')
    expect(changed.length).toBeLessThan(after.size)
    p.clean('out')
    p.clean('.tagpress')
    p.build()
    expect(p.snapshot('out/datasets/litgpt')).toEqual(after)
  })

  it('leaves out `datasets: false` files, writes only the configured kinds, and removes what is no longer written', () => {
    const p = track(
      new Project({
        'a.md': '---\ntags: [keep]\n---\n# A\n\n[/Q]Kept?[Q/] [/A]Yes.[A/]\n\n[/Q]Also?[Q/] [/A]Yes.[A/]\n\nA block. [/BLOCKREAD/]\n',
        'secret.md': '---\ndatasets: false\n---\n# Secret\n\n[/Q]Hidden?[Q/] [/A]From datasets.[A/]\n'
      })
    )
    p.build()
    expect(existsSync(path.join(p.dir, 'out/datasets/litgpt/blocks/train.jsonl'))).toBe(true)
    p.write('../tagpress.config.json', JSON.stringify({litgpt: {kinds: ['qa']}}))
    // (The build id does not cover litgpt.* yet, so a config change alone is a no-op build: edit a source too.)
    p.write('b.md', '# B\n\nText.\n')
    p.build()
    const files = litgptFiles(p)
    expect(files.filter((file) => file.includes('blocks'))).toEqual([])
    expect(files).toContain('qa/val.jsonl')
    const everything = files.map((file) => p.read('out/datasets/litgpt/' + file)).join('\n')
    expect(everything).not.toContain('Hidden?')
    expect(everything).toContain('Kept?')
    const sources = p.read('out/datasets/litgpt/sources.jsonl').trimEnd().split('\n').map((line) => JSON.parse(line))
    expect(sources.map((source) => source.source)).toEqual(['a.md', 'b.md'])
    expect(sources[0]).toMatchObject({file_id: 'a', tags: ['keep'], records: expect.objectContaining({qa: 2})})
  })

  it("deletes LitGPT's TextFiles cache when the text it was made from changes, and only then", () => {
    const p = track(new Project({'a.md': '# A\n\n[/Q]One?[Q/] [/A]1.[A/]\n\n[/Q]Two?[Q/] [/A]2.[A/]\n'}))
    p.build()
    const cache = path.join(p.dir, 'out/datasets/litgpt/text/train/train')
    mkdirSync(cache, {recursive: true})
    writeFileSync(path.join(cache, 'index.json'), '{}')
    p.write('b.md', '# B\n\nNo records here.\n')
    p.build()
    expect(existsSync(cache)).toBe(true)
    p.write('a.md', '# A\n\n[/Q]One?[Q/] [/A]One.[A/]\n\n[/Q]Two?[Q/] [/A]2.[A/]\n')
    p.build()
    expect(existsSync(cache)).toBe(false)
  })

  it('counts tokens exactly with a configured tokenizer.json and ends documents with its EOS token', () => {
    const p = track(new Project({'a.md': '# A\n\n[/Q]one two three[Q/] [/A]four five[A/]\n\n[/Q]six[Q/] [/A]seven[A/]\n'}))
    p.write('../tagpress.config.json', JSON.stringify({litgpt: {tokenizer: 'tok/tokenizer.json', contextLength: 16}}))
    mkdirSync(path.join(p.dir, 'tok'))
    writeFileSync(path.join(p.dir, 'tok/tokenizer.json'), readFileSync(path.join(import.meta.dirname, 'fixtures/litgpt/tokenizer/tokenizer.json')))
    writeFileSync(path.join(p.dir, 'tok/tokenizer_config.json'), readFileSync(path.join(import.meta.dirname, 'fixtures/litgpt/tokenizer/tokenizer_config.json')))
    const {status} = p.build()
    expect(status).toBe(0)
    const stats = JSON.parse(p.read('out/datasets/litgpt/stats.json'))
    expect(stats.exact).toBe(true)
    expect(stats.text_separator).toBe('</s>')
    // Text documents: question, answer, separator. "one two three four five" = 5 words, "six seven" = 2, +1 separator each.
    const text = stats.files['text/train/part-00000.txt'] ?? {tokens: 0}
    const val = stats.files['text/val/part-00000.txt'] ?? {tokens: 0}
    expect(text.tokens + val.tokens).toBe(5 + 1 + 2 + 1)
    expect(p.read('out/datasets/litgpt/README.md')).toContain('exact, counted with `tokenizer.json`')
  })
})

describe('first-build files (written while the sources are summarized)', () => {
  const stat = (text: string): StreamStat => [Buffer.byteLength(text), 1, 3, 3, 0]
  const shares = {
    'a.md': [['qa/train.jsonl', '{"a":1}\n'], ['text/train', 'alpha text.\n']],
    'b.md': [['qa/train.jsonl', '{"b":"é"}\n'], ['text/train', 'beta text.\n']]
  } as const
  const streams = ['qa/train.jsonl', 'text/train']
  function written(keyOfB: string): {dir: string; files: SpeculativeFiles; builder: LayoutBuilder} {
    const dir = mkdtempSync(path.join(tmpdir(), 'tagpress-speculative-'))
    const files = new SpeculativeFiles(dir, 16)
    const builder = new LayoutBuilder(16)
    for (const [source, list] of Object.entries(shares)) {
      files.add(source, 'key-' + source, list.map(([stream, text]): [string, StreamStat, string] => [stream, stat(text), text]))
      for (const [stream, text] of list) builder.add(source, source === 'b.md' ? keyOfB : 'key-' + source, stream, stat(text))
    }
    return {dir, files, builder}
  }

  it('are the final files when the layout holds the same shares, text packed into the same parts', () => {
    const {dir, files, builder} = written('key-b.md')
    try {
      const layout = builder.layout(streams)
      const writers = files.finish(layout)
      expect(writers).toBeDefined()
      for (const writer of writers ?? []) writer.commit()
      const read = (file: string) => readFileSync(path.join(dir, 'datasets/litgpt', file), 'utf8')
      expect(read('qa/train.jsonl')).toBe('{"a":1}\n{"b":"é"}\n')
      // 12 + 11 bytes are over 16: one part each.
      expect(read('text/train/part-00000.txt')).toBe('alpha text.\n')
      expect(read('text/train/part-00001.txt')).toBe('beta text.\n')
      for (const [file, state] of layout) expect(state.sha256).toBe(sha(path.join(dir, file)))
      expect((readdirSync(dir, {recursive: true, encoding: 'utf8'}) as string[]).filter((name) => name.endsWith('.tmp'))).toEqual([])
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('are thrown away, leaving no file behind, when a forced decision changed a source\'s share', () => {
    const {dir, files, builder} = written('forced-key-of-b')
    try {
      expect(files.finish(builder.layout(streams))).toBeUndefined()
      const left = (readdirSync(dir, {recursive: true, withFileTypes: true}) as Array<{isFile(): boolean}>).filter((entry) => entry.isFile())
      expect(left).toEqual([])
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})

describe('segment file writer', () => {
  it('closes its file once: aborted after finishing (a build stopped for a newer edit), it leaves a file opened since alone', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tagpress-segments-'))
    try {
      const writer = new SegmentFileWriter(path.join(dir, 'train.jsonl'))
      writer.append('{"a":1}\n')
      writer.finish()
      // The lowest free number is the one the writer just closed: another file (a cache write, say) gets it.
      const other = openSync(path.join(dir, 'other.txt'), 'w')
      expect(other).toBe((writer as unknown as {out: {fd: number}}).out.fd)
      writer.abort()
      writeSync(other, 'still open\n')
      closeSync(other)
      expect(readFileSync(path.join(dir, 'other.txt'), 'utf8')).toBe('still open\n')
      expect(readdirSync(dir)).toEqual(['other.txt'])
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})

describe('records for trainers', () => {
  it('maps each kind to instruction, input and output', () => {
    const qa = {id: 'g/i#q-x', file_id: 'g/i', chapter_id: '1.1', chapter_tree: ['Guide', 'Intro'], question: 'Why?', answer: 'Because.', url: 'g/i.html#q-x'}
    expect(toInstruction('qa', qa)).toEqual({instruction: 'Why?', input: 'Guide > Intro', output: 'Because.', id: 'g/i#q-x', kind: 'qa'})
    const block = {id: 'g/i#block7', file_id: 'g/i', block_index: 7, kind: 'code', lang: 'python', chapter_id: '1', chapter_tree: ['Guide'], content: 'print("```")'}
    expect(toInstruction('blocks', block)).toEqual({instruction: 'g/i#7', input: '', output: '````python\nprint("```")\n````', id: 'g/i#block7', kind: 'block'})
    const chapter = {file_id: 'g/i', chapter_id: '1.2', chapter_tree: ['Guide', 'More'], title: 'More', level: 2, content: '## More\n\nText.'}
    expect(toInstruction('chapters', chapter)).toEqual({instruction: 'Guide > More', input: '', output: '## More\n\nText.', id: 'g/i#chapter1.2', kind: 'chapter'})
    expect(toText('qa', qa)).toBe('Why?\n\nBecause.')
    expect(fence('a')).toBe('```\na\n```')
  })

  it("renders LitGPT's alpaca prompt exactly", () => {
    expect(alpacaPrompt({instruction: 'I', input: 'C'})).toBe(
      'Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\nI\n\n### Input:\nC\n\n### Response:\n'
    )
    expect(alpacaPrompt({instruction: 'I', input: ''})).toBe('Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nI\n\n### Response:\n')
  })

  it('replaces lone surrogates and strips a leading BOM from text', () => {
    expect(wellFormed('a\uD800b')).toBe('a\uFFFDb')
    expect(wellFormed('😀')).toBe('😀')
    const problems: string[] = []
    expect(toText('chapters', {file_id: 'x', chapter_id: '1', chapter_tree: [], title: 'x', level: 1, content: '\uFEFF# X'})).toBe('# X')
    expect(problems).toEqual([])
  })

  it('splits by a hash of the seed and the id, the same on every run', () => {
    const a = splitPoint(42, 'guide/intro#block7')
    expect(a).toBe(splitPoint(42, 'guide/intro#block7'))
    expect(a).not.toBe(splitPoint(43, 'guide/intro#block7'))
    expect(a).toBeGreaterThanOrEqual(0)
    expect(a).toBeLessThan(1)
    let inVal = 0
    for (let index = 0; index < 10000; index++) if (splitPoint(1, 'r' + index) < 0.1) inVal++
    expect(inVal).toBeGreaterThan(900)
    expect(inVal).toBeLessThan(1100)
  })

  it('the schema check catches what crashes LitGPT', () => {
    const dir = path.join(projectsDir(), 'bad')
    mkdirSync(dir, {recursive: true})
    writeFileSync(path.join(dir, 'train.jsonl'), '\uFEFF{"instruction":"a","output":"b"}\n\n{"instruction":"a","output":"b","prompt":"x"}\n')
    const problems: string[] = []
    checkJsonl(path.join(dir, 'train.jsonl'), problems)
    expect(problems.join('\n')).toMatch(/BOM/)
    expect(problems.join('\n')).toMatch(/blank/)
    expect(problems.join('\n')).toMatch(/`prompt`/)
    expect(checkJsonFolder(dir).join('\n')).toMatch(/no val\.jsonl/)
  })

  it('loads a tokenizer.json for exact counts', async () => {
    const counter = await tokenCounter(path.join(import.meta.dirname, 'fixtures/litgpt/tokenizer/tokenizer.json'))
    expect(counter.exact).toBe(true)
    expect(counter.count('one two unknownword')).toBe(3)
    expect(counter.eos).toBe('</s>')
  })
})

function projectsDir(): string {
  const project = track(new Project())
  return project.dir
}
