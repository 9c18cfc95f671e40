import {statSync} from 'node:fs'
import path from 'node:path'
import {watch, type FSWatcher} from 'chokidar'

export type ChangeKind = 'add' | 'change' | 'unlink' | 'addDir' | 'unlinkDir'

/** One coalesced batch: the last event per absolute path. */
export type ChangeBatch = Map<string, ChangeKind>

/**
 * Watch files and folders with chokidar and hand over changes in batches
 * holding each path's final state. The first change after a quiet spell is
 * handed over at once (a save should show without a debounce's delay); while
 * the consumer works on a batch (its promise pending), later changes gather
 * into the next one, so a burst of saves costs one more round, not one each,
 * and the last change is never lost. An editor's save by rename-over (unlink
 * + add) is one change: chokidar holds an unlink back 100 ms for that.
 */
export function watchPaths(
  paths: string[],
  onBatch: (batch: ChangeBatch) => void | Promise<void>
): {ready: Promise<void>; close: () => Promise<void>} {
  let batch: ChangeBatch = new Map()
  let timer: NodeJS.Timeout | undefined
  /** The consumer is working on the last batch. */
  let busy = false
  const watcher: FSWatcher = watch(paths, {
    ignoreInitial: true,
    ignored: (file) => path.basename(file).startsWith('.') && path.basename(file) !== '.' || file.includes(path.sep + 'node_modules' + path.sep)
  })
  // chokidar drops a file's change events for 50 ms after one it reported: a save that soon after the last one
  // (a formatter's rewrite, quick saves) would be lost. Files just reported are looked at again once that is over.
  const signatures = new Map<string, string>()
  let recheck: NodeJS.Timeout | undefined
  const flush = (): void => {
    timer = undefined
    if (busy || batch.size === 0) return
    const done = batch
    batch = new Map()
    for (const [file, kind] of done) if (kind === 'add' || kind === 'change') signatures.set(file, signature(file))
    if (signatures.size > 0) {
      if (recheck) clearTimeout(recheck)
      recheck = setTimeout(lookAgain, recheckMs)
    }
    busy = true
    const after = (): void => {
      busy = false
      flush()
    }
    let result: void | Promise<void>
    try {
      result = onBatch(done)
    } catch (error) {
      after()
      throw error
    }
    if (result) result.then(after, after)
    else after()
  }
  const lookAgain = (): void => {
    recheck = undefined
    const looked = [...signatures]
    signatures.clear()
    for (const [file, before] of looked) if (before !== '' && signature(file) !== before) note('change', file)
  }
  const note = (event: string, file: string): void => {
    if (!['add', 'change', 'unlink', 'addDir', 'unlinkDir'].includes(event)) return
    // An unlink followed by an add (a rename-over chokidar did not pair) is a change.
    const previous = batch.get(file)
    batch.set(file, previous === 'unlink' && event === 'add' ? 'change' : (event as ChangeKind))
    // Events of one moment (a folder moved, a checkout) arrive together: one turn of the event loop gathers them.
    if (!busy && !timer) timer = setTimeout(flush, 0)
  }
  watcher.on('all', note)
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()))
  return {
    ready,
    close: async () => {
      if (timer) clearTimeout(timer)
      if (recheck) clearTimeout(recheck)
      await watcher.close()
    }
  }
}

/** Longer than chokidar's 50 ms window in which it drops a path's further change events. */
const recheckMs = 60

/** What tells one save of a file from the next (`''` once it is gone: its deletion is chokidar's to report). */
function signature(file: string): string {
  const stat = statSync(file, {throwIfNoEntry: false})
  return stat ? stat.ino + ':' + stat.size + ':' + stat.mtimeMs : ''
}

/**
 * Tools that save by truncating a file and then writing it can be caught in between, the file empty: reading it
 * then would show an empty page (and a changed title) for a moment. An empty file waits, up to 100 ms, for the
 * write that follows (Vite does the same); a file really emptied is read after that.
 */
export async function writeFinished(file: string): Promise<void> {
  const first = statSync(file, {throwIfNoEntry: false})
  if (!first || first.size > 0) return
  for (let waited = 0; waited < 100; waited += 10) {
    await new Promise((resolve) => setTimeout(resolve, 10))
    const now = statSync(file, {throwIfNoEntry: false})
    if (!now || now.size > 0 || now.mtimeMs !== first.mtimeMs) return
  }
}
