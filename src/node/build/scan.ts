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
  let entries: string[]
  try {
    entries = readdirSync(contentDir, {recursive: true, encoding: 'utf8'})
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  const found: SourceStat[] = []
  for (const entry of entries) {
    if (!entry.toLowerCase().endsWith('.md')) continue
    const source = path.sep === '/' ? entry : entry.split(path.sep).join('/')
    if (source.split('/').some((part) => part.startsWith('.') || part === 'node_modules')) continue
    const stat = statSync(path.join(contentDir, entry), {throwIfNoEntry: false})
    if (!stat?.isFile()) continue
    found.push({source, size: stat.size, mtimeMs: stat.mtimeMs})
  }
  return found.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0))
}
