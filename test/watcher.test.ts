import {readFileSync, renameSync, rmSync, truncateSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {watchPaths, writeFinished, type ChangeBatch} from '../src/node/dev/watcher.js'
import {tempFolders} from './helpers/temp-folders.js'

// The dev server's watcher on a real folder: editors' saves by rename-over and bursts of saves
// arrive as batches holding each path's final state, and the last change is never lost.
const tempDir = tempFolders('tagpress-watch-')
// Registered after the folders' hook, so run before it: watchers close before their folders go.
const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const close of closers.splice(0)) await close()
})

/** `consume` stands for the dev server's work on a batch (by default a 20 ms compile). */
async function watched(
  consume: (batch: ChangeBatch) => Promise<void> = () => new Promise((resolve) => setTimeout(resolve, 20))
): Promise<{dir: string; batches: ChangeBatch[]; settled: () => Promise<Map<string, string>>}> {
  const dir = tempDir()
  writeFileSync(path.join(dir, 'page.md'), '# Page\n')
  const batches: ChangeBatch[] = []
  const watcher = watchPaths([dir], (batch) => {
    batches.push(batch)
    return consume(batch)
  })
  closers.push(watcher.close)
  await watcher.ready
  /** Wait until no batch came for a while; the final kind of each path over every batch. */
  const settled = async (): Promise<Map<string, string>> => {
    let count = -1
    while (count !== batches.length) {
      count = batches.length
      await new Promise((resolve) => setTimeout(resolve, 400))
    }
    const last = new Map<string, string>()
    for (const batch of batches) for (const [file, kind] of batch) last.set(path.relative(dir, file), kind)
    return last
  }
  return {dir, batches, settled}
}

describe('the dev watcher', () => {
  it('takes a save by rename-over (vim, JetBrains) for a change, never a deletion', async () => {
    const {dir, settled} = await watched()
    const aside = path.join(dir, '.page.md.swp')
    writeFileSync(aside, '# Page\n\nSaved by rename.\n')
    renameSync(aside, path.join(dir, 'page.md'))
    const last = await settled()
    expect(last.get('page.md')).toBe('change')
    // Hidden temp files are not content.
    expect([...last.keys()].some((file) => file.startsWith('.'))).toBe(false)
  })

  it('coalesces a burst of saves into few batches and keeps the last', async () => {
    const {dir, batches, settled} = await watched()
    for (let save = 0; save < 30; save++) writeFileSync(path.join(dir, 'page.md'), '# Page\n\nSave ' + save + '.\n')
    const last = await settled()
    expect(last.get('page.md')).toBe('change')
    expect(batches.length).toBeGreaterThan(0)
    expect(batches.length).toBeLessThan(30)
  })

  it('holds changes back while the last batch is being applied, then hands them over as one', async () => {
    let finish: () => void = () => {}
    const {dir, batches, settled} = await watched(() => new Promise((resolve) => (finish = resolve)))
    writeFileSync(path.join(dir, 'page.md'), '# Page\n\nFirst.\n')
    while (batches.length === 0) await new Promise((resolve) => setTimeout(resolve, 1))
    // The first save is handed over alone, at once; these come while it is being applied.
    expect([...batches[0]!.keys()]).toEqual([path.join(dir, 'page.md')])
    writeFileSync(path.join(dir, 'other.md'), '# Other\n')
    writeFileSync(path.join(dir, 'third.md'), '# Third\n')
    writeFileSync(path.join(dir, 'page.md'), '# Page\n\nSecond.\n')
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(batches).toHaveLength(1)
    finish()
    await settled()
    expect(batches.length).toBeGreaterThanOrEqual(2)
    const next = batches[1]!
    expect(next.get(path.join(dir, 'other.md'))).toBe('add')
    expect(next.get(path.join(dir, 'third.md'))).toBe('add')
    expect(next.get(path.join(dir, 'page.md'))).toBe('change')
  })

  it('sees a save that follows its batch within 50 ms (chokidar drops such a change event)', async () => {
    const {dir, batches, settled} = await watched()
    const file = path.join(dir, 'page.md')
    const seen = batches.length
    writeFileSync(file, '# Page\n\nFirst save.\n')
    while (batches.length === seen) await new Promise((resolve) => setTimeout(resolve, 1))
    // The first save's batch is out (the dev server compiles it now); a formatter rewrites the file at once.
    writeFileSync(file, '# Page\n\nSecond save.\n')
    const afterSecond = batches.length
    await settled()
    // A batch after the second save: whoever reads the file then reads the second save.
    expect(batches.length).toBeGreaterThan(afterSecond)
    expect(batches.at(-1)?.get(file)).toBe('change')
  })

  it('reports a new file, and its deletion', async () => {
    const {dir, settled} = await watched()
    writeFileSync(path.join(dir, 'new.md'), '# New\n')
    expect((await settled()).get('new.md')).toBe('add')
    rmSync(path.join(dir, 'new.md'))
    expect((await settled()).get('new.md')).toBe('unlink')
  })

  it('waits for the write after a truncation, and takes a file really emptied for empty', async () => {
    const dir = tempDir()
    const file = path.join(dir, 'page.md')
    writeFileSync(file, '# Page\n')
    // A save seen between its truncation and its write.
    truncateSync(file, 0)
    setTimeout(() => writeFileSync(file, '# Page\n\nSaved.\n'), 30)
    await writeFinished(file)
    expect(readFileSync(file, 'utf8')).toBe('# Page\n\nSaved.\n')
    truncateSync(file, 0)
    await writeFinished(file)
    expect(readFileSync(file, 'utf8')).toBe('')
  })
})
