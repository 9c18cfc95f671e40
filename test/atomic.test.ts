import {closeSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {asideName, oldNamesFreed, replaceSync, writeAtomicSync} from '../src/node/fs/atomic.js'
import {WriteQueue} from '../src/node/fs/write-queue.js'
import {tempFolders} from './helpers/temp-folders.js'

// Every output file is written aside and renamed over its target; `replaceSync` renames without freeing the
// old file's blocks in the call (the old file's last name goes on the thread pool).

const tempDir = tempFolders('tagpress-atomic-')

/** The folder's names once the background unlinks have run (they are queued on the thread pool). */
async function settledNames(dir: string): Promise<string[]> {
  await oldNamesFreed()
  return readdirSync(dir).sort()
}

describe('replacing a file', () => {
  it('swaps in the new file; a reader of the old one keeps reading it; no second name is left', async () => {
    const dir = tempDir()
    const file = path.join(dir, 'blocks.jsonl')
    writeFileSync(file, 'old\n')
    const reader = openSync(file, 'r')
    const aside = asideName(file)
    writeFileSync(aside, 'new\n')
    replaceSync(aside, file)
    expect(readFileSync(file, 'utf8')).toBe('new\n')
    const buffer = Buffer.alloc(4)
    readSync(reader, buffer, 0, 4, 0)
    closeSync(reader)
    expect(buffer.toString()).toBe('old\n')
    expect(await settledNames(dir)).toEqual(['blocks.jsonl'])
  })

  it('creates the file when there was none, and leaves the target alone when the rename fails', async () => {
    const dir = tempDir()
    const file = path.join(dir, 'qa.jsonl')
    const aside = asideName(file)
    writeFileSync(aside, 'first\n')
    replaceSync(aside, file)
    expect(readFileSync(file, 'utf8')).toBe('first\n')
    // An aside that vanished: the rename fails, the target and folder are as they were.
    expect(() => replaceSync(path.join(dir, '.missing.tmp'), file)).toThrow()
    expect(readFileSync(file, 'utf8')).toBe('first\n')
    expect(await settledNames(dir)).toEqual(['qa.jsonl'])
    writeAtomicSync(file, 'second\n')
    expect(readFileSync(file, 'utf8')).toBe('second\n')
    expect(await settledNames(dir)).toEqual(['qa.jsonl'])
  })
})

describe('the write queue', () => {
  it('writes every file whole (new folders too) with a few under way at once, and leaves nothing aside', async () => {
    const dir = tempDir()
    const queue = new WriteQueue(3)
    const files = Array.from({length: 40}, (_, index) => path.join(dir, 'sub-' + (index % 4), 'page-' + index + '.html'))
    for (const [index, file] of files.entries()) await queue.write(file, 'page ' + index + ' ' + 'é'.repeat(index * 100))
    await queue.drain()
    for (const [index, file] of files.entries()) expect(readFileSync(file, 'utf8')).toBe('page ' + index + ' ' + 'é'.repeat(index * 100))
    for (const sub of readdirSync(dir)) expect(readdirSync(path.join(dir, sub)).filter((name) => name.endsWith('.tmp'))).toEqual([])
  })

  it('reports a failed write at the next write or at drain, never silently', async () => {
    const dir = tempDir()
    const queue = new WriteQueue(2)
    // A folder stands where the file should go: the rename over it fails.
    const blocked = path.join(dir, 'taken')
    mkdirSync(path.join(blocked, 'inside'), {recursive: true})
    await queue.write(blocked, 'x')
    await expect(queue.drain()).rejects.toThrow()
    await expect(queue.write(path.join(dir, 'next.html'), 'y')).rejects.toThrow()
  })
})
