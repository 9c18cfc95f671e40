import {createHash} from 'node:crypto'
import {readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import type {Resolved} from '../../../plugins/rehype-links/index.js'
import type {AssetRef} from './types.js'

/** `guide/intro.md` → `guide/intro`; `guide/` → `guide/index`. */
export function fileIdOf(relativePath: string): string {
  const posix = relativePath.split(path.sep).join('/')
  if (posix === '' || posix.endsWith('/')) return posix + 'index'
  return posix.replace(/\.md$/i, '')
}

/** The page of a file id, relative to the site root. */
export function pagePathOf(fileId: string): string {
  return fileId + '.html'
}

/**
 * Resolve the local URLs of one file: `.md` links become page URLs under
 * `base`, other files become content-hashed assets (collected in `assets`).
 */
export function createResolver(contentDir: string, base: string, sourcePath: string, assets: AssetRef[]) {
  const fromDir = path.posix.dirname(sourcePath)
  return (url: string, tag: 'a' | 'img'): Resolved | undefined => {
    const match = /^([^?#]*)(\?[^#]*)?(#.*)?$/.exec(url)
    const rawPath = decodeSafe(match?.[1] ?? '')
    const query = match?.[2] ?? ''
    const hash = match?.[3] ?? ''
    if (rawPath === '') return undefined
    const target = rawPath.startsWith('/') ? path.posix.normalize(rawPath.slice(1)) : path.posix.join(fromDir, rawPath)
    if (target.startsWith('../') || target === '..') {
      return {kind: 'missing', reason: 'it points outside the content folder'}
    }
    if (tag === 'a' && (/\.md$/i.test(target) || rawPath.endsWith('/'))) {
      const fileId = fileIdOf(rawPath.endsWith('/') ? target + '/' : target)
      return {kind: 'page', href: base + pagePathOf(fileId) + hash, fileId, ...(hash ? {fragment: decodeSafe(hash.slice(1))} : {})}
    }
    return asset(target, query + hash)
  }

  function asset(target: string, suffix: string): Resolved {
    const known = assets.find((ref) => ref.source === target)
    if (known) return {kind: 'asset', href: base + known.output + suffix}
    const absolute = path.join(contentDir, target)
    let bytes: Buffer
    let stat
    try {
      stat = statSync(absolute)
      bytes = readFileSync(absolute)
    } catch {
      return {kind: 'missing', reason: 'no file `' + target + '` in the content folder'}
    }
    const digest = createHash('sha256').update(bytes).digest('hex').slice(0, 8)
    const extension = path.posix.extname(target)
    const name = path.posix.basename(target, extension)
    const output = 'assets/' + name + '.' + digest + extension
    assets.push({source: target, output, size: stat.size, mtimeMs: stat.mtimeMs})
    return {kind: 'asset', href: base + output + suffix}
  }
}

function decodeSafe(value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}
