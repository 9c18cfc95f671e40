import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

/** The installed tagpress package's folder (works from `src/` under a test runner and from `dist/`). */
export const packageRoot: string = find(path.dirname(fileURLToPath(import.meta.url)))

function find(dir: string): string {
  for (let current = dir; ; current = path.dirname(current)) {
    const file = path.join(current, 'package.json')
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as {name?: string}).name === 'tagpress') return current
    if (path.dirname(current) === current) throw new Error('Cannot find the tagpress package above ' + dir)
  }
}
