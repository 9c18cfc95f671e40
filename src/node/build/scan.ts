import {readdirSync, statSync} from 'node:fs'
import path from 'node:path'

export interface SourceStat {
  /** Path relative to the content folder, with `/`. */
  source: string
  size: number
  mtimeMs: number
}

/**
 * Every Markdown file under the content folder, sorted by path (the order of
 * records in every dataset). Dot-files and `node_modules` are skipped.
 */
export function scanContent(contentDir: string): SourceStat[] {
  const found: SourceStat[] = []
  // A hand-rolled walk: several times faster than `readdirSync({recursive: true})` on Node 20.
  const walk = (dir: string, prefix: string): void => {
    let entries
    try {
      entries = readdirSync(dir, {withFileTypes: true})
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && prefix === '') return
      throw error
    }
    for (const entry of entries) {
      const name = entry.name
      if (name.startsWith('.') || name === 'node_modules') continue
      if (entry.isDirectory()) walk(path.join(dir, name), prefix + name + '/')
      else if (name.toLowerCase().endsWith('.md')) {
        const stat = statSync(path.join(dir, name), {throwIfNoEntry: false})
        if (stat?.isFile()) found.push({source: prefix + name, size: stat.size, mtimeMs: stat.mtimeMs})
      }
    }
  }
  walk(contentDir, '')
  return found.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0))
}

/**
 * The last scan updated for a few changed paths (from a watcher): stat only
 * those, add, update or drop them, keep the order. A changed folder path
 * (added, removed or renamed) falls back to a full scan.
 */
export function rescan(contentDir: string, previous: readonly SourceStat[], changed: ReadonlySet<string>): SourceStat[] {
  const byPath = new Map(previous.map((stat) => [stat.source, stat]))
  for (const source of changed) {
    if (!source.toLowerCase().endsWith('.md')) return scanContent(contentDir)
    if (source.split('/').some((part) => part.startsWith('.') || part === 'node_modules')) continue
    const stat = statSync(path.join(contentDir, source), {throwIfNoEntry: false})
    if (stat?.isFile()) byPath.set(source, {source, size: stat.size, mtimeMs: stat.mtimeMs})
    else byPath.delete(source)
  }
  return [...byPath.values()].sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0))
}
