import {statSync} from 'node:fs'
import path from 'node:path'
import {watch, type FSWatcher} from 'chokidar'

export type ChangeKind = 'add' | 'change' | 'unlink' | 'addDir' | 'unlinkDir'

/** One coalesced batch: the last event per absolute path. */
export type ChangeBatch = Map<string, ChangeKind>

/**
 * Watch files and folders with chokidar and hand over changes in batches:
 * a burst of saves, or an editor's save by rename-over (unlink + add), ends
 * as one batch with each path's final state, after `quiet` ms without events
 * (at most `maxWait` ms after the first), so the last change is never lost.
 */
export function watchPaths(
  paths: string[],
  onBatch: (batch: ChangeBatch) => void,
  options: {quiet?: number; maxWait?: number} = {}
): {ready: Promise<void>; close: () => Promise<void>} {
  const quiet = options.quiet ?? 20
  const maxWait = options.maxWait ?? 150
  let batch: ChangeBatch = new Map()
  let timer: NodeJS.Timeout | undefined
  let first = 0
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
    const done = batch
    batch = new Map()
    if (done.size === 0) return
    for (const [file, kind] of done) if (kind === 'add' || kind === 'change') signatures.set(file, signature(file))
    if (signatures.size > 0) {
      if (recheck) clearTimeout(recheck)
      recheck = setTimeout(lookAgain, recheckMs)
    }
    onBatch(done)
  }
  const lookAgain = (): void => {
    recheck = undefined
    const looked = [...signatures]
    signatures.clear()
    for (const [file, before] of looked) if (before !== '' && signature(file) !== before) note('change', file)
  }
  const note = (event: string, file: string): void => {
    if (!['add', 'change', 'unlink', 'addDir', 'unlinkDir'].includes(event)) return
    if (batch.size === 0) first = Date.now()
    // An unlink followed by an add (rename-over) is a change.
    const previous = batch.get(file)
    batch.set(file, previous === 'unlink' && event === 'add' ? 'change' : (event as ChangeKind))
    if (timer) clearTimeout(timer)
    timer = setTimeout(flush, Date.now() - first >= maxWait ? 0 : quiet)
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
