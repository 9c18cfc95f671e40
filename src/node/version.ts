import {createHash} from 'node:crypto'
import {readFileSync, readdirSync} from 'node:fs'
import path from 'node:path'
import {packageRoot} from './package-root.js'

/** The package's version, from its package.json. */
export const toolVersion: string = (JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as {version: string}).version

let key: string | undefined

/**
 * The version plus a hash of the compiled pipeline's code, so a cache made by
 * other code is never reused, even between releases with one version number.
 */
export function toolKey(): string {
  if (key) return key
  const hash = createHash('sha256').update(toolVersion)
  for (const dir of ['dist/plugins', 'dist/src/node/compile']) {
    const absolute = path.join(packageRoot, dir)
    for (const file of readdirSync(absolute, {recursive: true, encoding: 'utf8'}).sort()) {
      if (file.endsWith('.js')) hash.update(file).update(readFileSync(path.join(absolute, file)))
    }
  }
  key = hash.digest('hex').slice(0, 32)
  return key
}
