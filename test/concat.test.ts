import {createHash} from 'node:crypto'
import {readFileSync, readdirSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {oldNamesFreed} from '../src/node/fs/atomic.js'
import {hashConcat, writeConcat, type ConcatSource} from '../src/node/outputs/concat.js'
import {tempFolders} from './helpers/temp-folders.js'

// The splice writer behind the datasets and the search index: an edit reuses every unchanged segment of the
// previous file, the result is the file a fresh write gives, and a splice told to stop leaves the file as it was.
const folder = tempFolders('tagpress-concat-')

/** `count` sources; the text of source i is `text(i)`. */
function sources(count: number, text: (index: number) => string, key = (index: number) => 'k' + index): ConcatSource[] {
  return Array.from({length: count}, (_, index) => ({source: 's' + index, key: key(index), include: () => true, parts: () => ({out: text(index)})}))
}

describe('writeConcat', () => {
  it('splices an edit into the previous file: the bytes of a fresh write, and the hash of those bytes', () => {
    const dir = folder()
    const file = path.join(dir, 'out.jsonl')
    const line = (index: number): string => JSON.stringify({n: index}) + '\n'
    const first = writeConcat([{name: 'out', file}], sources(600, line)).out!
    const edited = (index: number): string => (index === 300 ? '{"n":"three hundred"}\n{"n":"more"}\n' : line(index))
    const spliced = writeConcat([{name: 'out', file, previous: first}], sources(600, edited, (index) => (index === 300 ? 'new' : 'k' + index))).out!
    const expected = Array.from({length: 600}, (_, index) => edited(index)).join('')
    expect(readFileSync(file, 'utf8')).toBe(expected)
    expect(spliced.records).toBe(601)
    expect(spliced.sha256).toBeUndefined()
    expect(hashConcat(spliced, file)).toBe(createHash('sha256').update(expected).digest('hex'))
    expect(spliced.sha256).toBe(hashConcat(spliced, file))
  })

  it('told to stop, leaves the previous file and no aside file: between sources, and while copying', async () => {
    const dir = folder()
    const file = path.join(dir, 'out.jsonl')
    // Segments of 3 MB: reusing them is copying, asked about every 8 MB.
    const big = (index: number): string => String(index % 10).repeat(3 << 20) + '\n'
    const first = writeConcat([{name: 'out', file}], sources(6, big)).out!
    const before = readFileSync(file)
    let asked = 0
    const result = writeConcat([{name: 'out', file, previous: first}], sources(6, big, (index) => (index === 0 ? 'new' : 'k' + index)), () => ++asked > 0)
    expect(result).toBeUndefined()
    expect(asked).toBeGreaterThan(0)
    expect(readFileSync(file).equals(before)).toBe(true)
    // (The replaced file's second name is unlinked on the thread pool.)
    await oldNamesFreed()
    expect(readdirSync(dir)).toEqual(['out.jsonl'])
    // Between sources (every 256), with nothing to copy yet.
    const many = writeConcat([{name: 'out', file}], sources(600, (index) => index + '\n')).out!
    const kept = readFileSync(file, 'utf8')
    expect(writeConcat([{name: 'out', file, previous: many}], sources(600, (index) => index + '!\n', (index) => 'x' + index), () => true)).toBeUndefined()
    expect(readFileSync(file, 'utf8')).toBe(kept)
    await oldNamesFreed()
    expect(readdirSync(dir)).toEqual(['out.jsonl'])
    // Never told to stop: written.
    expect(writeConcat([{name: 'out', file, previous: many}], sources(600, (index) => index + '!\n', (index) => 'x' + index), () => false)?.out?.records).toBe(600)
  })
})
