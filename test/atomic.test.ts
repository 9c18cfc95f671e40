import {openSync, readFileSync, readSync, readdirSync, closeSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {asideName, replaceSync, writeAtomicSync} from '../src/node/fs/atomic.js'
import {tempFolders} from './helpers/temp-folders.js'

// Every output file is written aside and renamed over its target; `replaceSync` renames without freeing the
// old file's blocks in the call (the old file's last name goes on the thread pool).

const tempDir = tempFolders('tagpress-atomic-')

/** The folder's names once the background unlink has run (it is queued on the thread pool). */
async function settledNames(dir: string, expected: number): Promise<string[]> {
  for (let tries = 0; tries < 200; tries++) {
    const names = readdirSync(dir).sort()
    if (names.length <= expected) return names
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
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
    expect(await settledNames(dir, 1)).toEqual(['blocks.jsonl'])
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
    expect(await settledNames(dir, 1)).toEqual(['qa.jsonl'])
    writeAtomicSync(file, 'second\n')
    expect(readFileSync(file, 'utf8')).toBe('second\n')
    expect(await settledNames(dir, 1)).toEqual(['qa.jsonl'])
  })
})
