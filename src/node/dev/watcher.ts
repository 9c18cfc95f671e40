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
  const flush = (): void => {
    timer = undefined
    const done = batch
    batch = new Map()
    if (done.size > 0) onBatch(done)
  }
  watcher.on('all', (event, file) => {
    if (!['add', 'change', 'unlink', 'addDir', 'unlinkDir'].includes(event)) return
    if (batch.size === 0) first = Date.now()
    // An unlink followed by an add (rename-over) is a change.
    const previous = batch.get(file)
    batch.set(file, previous === 'unlink' && event === 'add' ? 'change' : (event as ChangeKind))
    if (timer) clearTimeout(timer)
    timer = setTimeout(flush, Date.now() - first >= maxWait ? 0 : quiet)
  })
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()))
  return {
    ready,
    close: async () => {
      if (timer) clearTimeout(timer)
      await watcher.close()
    }
  }
}
