import {spawn} from 'node:child_process'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {gunzipSync} from 'node:zlib'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {globPattern} from '../src/node/datasets/filters.js'
import {Project} from './helpers/project.js'

const repo = path.join(import.meta.dirname, '..')
const cli = path.join(repo, 'bin', 'tagpress.js')
let p: Project
let qa: Array<Record<string, any>>
let blocksText: string

beforeAll(() => {
  p = Project.copyOf(repo)
  expect(p.build().status).toBe(0)
  blocksText = p.read('out/datasets/blocks.jsonl')
  qa = p.read('out/datasets/qa.jsonl').trimEnd().split('\n').map((line) => JSON.parse(line))
})
afterAll(() => p?.dispose())

function exportLines(...args: string[]): string[] {
  const result = p.run('export', ...args)
  expect(result.stderr).toBe('')
  expect(result.status).toBe(0)
  return result.stdout === '' ? [] : result.stdout.replace(/\n$/, '').split('\n')
}

describe('tagpress export: filters', () => {
  it('passes a dataset through unchanged without filters', () => {
    expect(p.run('export', 'blocks').stdout).toBe(blocksText)
  })

  it('chapter=1.2 keeps section 1.2 and its subsections, in every file', () => {
    const lines = exportLines('qa', '--filter', 'chapter=1.2')
    const expected = qa.filter((record) => record.chapter_id === '1.2' || record.chapter_id.startsWith('1.2.'))
    expect(expected.length).toBeGreaterThan(0)
    expect(lines.map((line) => JSON.parse(line))).toEqual(expected)
  })

  it('file=guide/* keeps the guide folder (its subfolders too); repeated keys are alternatives; different keys must all match', () => {
    const guide = exportLines('qa', '--filter', 'file=guide/*').map((line) => JSON.parse(line))
    expect(guide).toEqual(qa.filter((record) => record.file_id.startsWith('guide/')))
    expect(guide.some((record) => record.file_id.startsWith('guide/tags/'))).toBe(true)
    const two = exportLines('qa', '--filter', 'file=faq', '--filter', 'file=ask/*').map((line) => JSON.parse(line))
    expect(two).toEqual(qa.filter((record) => record.file_id === 'faq' || record.file_id.startsWith('ask/')))
    const both = exportLines('qa', '--filter', 'file=guide/**', '--filter', 'chapter=1').map((line) => JSON.parse(line))
    expect(both).toEqual(qa.filter((record) => record.file_id.startsWith('guide/') && (record.chapter_id === '1' || record.chapter_id.startsWith('1.'))))
  })

  it('tag=x keeps the files with that tag in their front matter', () => {
    const sources = p.read('out/datasets/litgpt/sources.jsonl').trimEnd().split('\n').map((line) => JSON.parse(line))
    const tagged = new Set(sources.filter((source) => source.tags.includes('datasets')).map((source) => source.file_id))
    expect(tagged.size).toBeGreaterThan(0)
    const lines = exportLines('qa', '--filter', 'tag=datasets').map((line) => JSON.parse(line))
    expect(lines).toEqual(qa.filter((record) => tagged.has(record.file_id)))
    expect(exportLines('qa', '--filter', 'tag=no-such-tag')).toEqual([])
  })

  it('globs match paths the way the docs say', () => {
    expect(globPattern('guide/*').test('guide/intro')).toBe(true)
    expect(globPattern('guide/*').test('guide/tags/readers')).toBe(false)
    expect(globPattern('guide/**').test('guide/tags/readers')).toBe(true)
    expect(globPattern('**/readers.md').test('guide/tags/readers')).toBe(true)
    expect(globPattern('guide/?ntro').test('guide/intro')).toBe(true)
  })
})

describe('tagpress export: formats', () => {
  it('json is one array of the same records', () => {
    const result = p.run('export', 'qa', '--format', 'json')
    expect(JSON.parse(result.stdout)).toEqual(qa)
    expect(JSON.parse(p.run('export', 'qa', '--format', 'json', '--filter', 'tag=none').stdout)).toEqual([])
  })

  it('alpaca gives instruction records; litgpt defaults to them and combines the kinds', () => {
    const alpaca = exportLines('qa', '--format', 'alpaca').map((line) => JSON.parse(line))
    expect(alpaca).toHaveLength(qa.length)
    expect(alpaca[0]).toEqual({instruction: qa[0]?.question, input: qa[0]?.chapter_tree.join(' > '), output: qa[0]?.answer, id: qa[0]?.id, kind: 'qa'})
    const litgpt = exportLines('litgpt').map((line) => JSON.parse(line))
    const total = ['qa', 'blocks', 'chapters'].reduce((sum, name) => sum + p.read(`out/datasets/${name}.jsonl`).trimEnd().split('\n').length, 0)
    expect(litgpt).toHaveLength(total)
    for (const record of litgpt) expect(Object.keys(record)).toEqual(['instruction', 'input', 'output', 'id', 'kind'])
    expect(exportLines('litgpt', '--filter', 'kind=chapters').map((line) => JSON.parse(line).kind)).toEqual(Array(p.read('out/datasets/chapters.jsonl').trimEnd().split('\n').length).fill('chapter'))
  })

  it('chat gives user and assistant messages', () => {
    const chat = exportLines('qa', '--format', 'chat').map((line) => JSON.parse(line))
    expect(chat[0].messages).toEqual([
      {role: 'user', content: qa[0]?.chapter_tree.join(' > ') + '\n\n' + qa[0]?.question},
      {role: 'assistant', content: qa[0]?.answer}
    ])
  })

  it('text gives documents, each followed by the separator line; text as jsonl gives {"text"}', () => {
    const result = p.run('export', 'text', '--filter', 'kind=qa')
    expect(result.status).toBe(0)
    const documents = result.stdout.split('\n<|endoftext|>\n')
    expect(documents.pop()).toBe('')
    expect(documents).toEqual(qa.map((record) => `${record.question}\n\n${record.answer}`))
    const json = exportLines('text', '--format', 'jsonl', '--filter', 'kind=qa').map((line) => JSON.parse(line))
    expect(json[0]).toEqual({text: `${qa[0]?.question}\n\n${qa[0]?.answer}`, id: qa[0]?.id, kind: 'qa'})
  })
})

describe('tagpress export: files, shards and gzip', () => {
  it('shards named like Hugging Face datasets reassemble to the whole export', () => {
    const dir = path.join(p.dir, 'shards')
    const result = p.run('export', 'blocks', '--shard-size', '10', '-o', dir)
    expect(result.status).toBe(0)
    expect(result.stdout).toBe('')
    const names = readdirSync(dir).sort()
    const count = Math.ceil(blocksText.trimEnd().split('\n').length / 10)
    expect(names).toEqual(Array.from({length: count}, (_, index) => `train-${String(index).padStart(5, '0')}-of-${String(count).padStart(5, '0')}.jsonl`))
    expect(names.map((name) => readFileSync(path.join(dir, name), 'utf8')).join('')).toBe(blocksText)
    for (const name of names.slice(0, -1)) expect(readFileSync(path.join(dir, name), 'utf8').trimEnd().split('\n')).toHaveLength(10)

    // Again, by size and gzipped, with another split name: the old shards of that split are replaced.
    expect(p.run('export', 'blocks', '--shard-size', '4KB', '--gzip', '--split', 'train', '-o', dir).status).toBe(0)
    const gz = readdirSync(dir).sort()
    expect(gz.every((name) => /^train-\d{5}-of-\d{5}\.jsonl\.gz$/.test(name))).toBe(true)
    expect(gz.length).toBeGreaterThan(1)
    expect(gz.map((name) => gunzipSync(readFileSync(path.join(dir, name))).toString('utf8')).join('')).toBe(blocksText)

    // JSON shards are arrays each.
    const jsonDir = path.join(p.dir, 'json-shards')
    expect(p.run('export', 'qa', '--format', 'json', '--shard-size', '20', '-o', jsonDir).status).toBe(0)
    const arrays = readdirSync(jsonDir).sort().map((name) => JSON.parse(readFileSync(path.join(jsonDir, name), 'utf8')))
    expect(arrays.flat()).toEqual(qa)
  })

  it('writes a file atomically, gzipped on request', () => {
    const file = path.join(p.dir, 'export/qa.jsonl')
    const result = p.run('export', 'qa', '--gzip', '-o', file)
    expect(result.status).toBe(0)
    expect(existsSync(file)).toBe(false)
    expect(gunzipSync(readFileSync(file + '.gz')).toString('utf8')).toBe(p.read('out/datasets/qa.jsonl'))
    expect(readdirSync(path.dirname(file))).toEqual(['qa.jsonl.gz'])
  })

  it('builds first when the sources changed since the last build', () => {
    p.write('faq.md', p.read('content/faq.md') + '\n[/Q]Is this question new?[Q/] [/A]Yes, added after the build.[A/]\n')
    const lines = exportLines('qa', '--filter', 'file=faq')
    expect(lines.at(-1)).toContain('Is this question new?')
  })

  it('fails with one clear sentence on a bad dataset, filter, format or shard size', () => {
    for (const args of [['nope'], ['qa', '--filter', 'colour=red'], ['qa', '--format', 'xml'], ['qa', '--shard-size', 'lots', '-o', 'x'], ['qa', '--shard-size', '10']]) {
      const result = p.run('export', ...args)
      expect(result.status).toBe(2)
      expect(result.stdout).toBe('')
      expect(result.stderr.trim().split('\n')).toHaveLength(1)
      expect(result.stderr).toMatch(/^tagpress: /)
      expect(result.stderr).not.toMatch(/\s+at /)
    }
  })

  it('stops quietly when its reader goes away (`| head`)', async () => {
    const child = spawn(process.execPath, [cli, 'export', 'litgpt', '--no-build'], {cwd: p.dir, env: {...process.env, CI: 'true'}})
    let stderr = ''
    child.stderr.on('data', (data) => (stderr += data))
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()))
    child.stdout.destroy()
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(code).toBe(0)
    expect(stderr).toBe('')
  })
})
