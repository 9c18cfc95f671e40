import {createHash} from 'node:crypto'
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import path from 'node:path'
import {packageRoot} from '../package-root.js'

/** The built theme: where its files are and what a page must link. */
export interface Theme {
  dir: string
  /** Files to copy, relative to `dir` (all under `assets/`). */
  files: string[]
  /** Site-relative URLs (without base) of the entry's CSS and JS. */
  css: string[]
  js: string[]
  /** Changes whenever any theme file changes. */
  key: string
}

interface ManifestChunk {
  file: string
  css?: string[]
  isEntry?: boolean
}

/** The theme that ships in the package: `dist/theme`, built by Vite from `site/` when the package is compiled. */
export function defaultThemeDir(): string {
  return path.join(packageRoot, 'dist', 'theme')
}

/** Read a Vite-built theme folder (its `.vite/manifest.json`). */
export function loadTheme(dir: string = defaultThemeDir()): Theme {
  const manifestFile = path.join(dir, '.vite', 'manifest.json')
  if (!existsSync(manifestFile)) {
    throw new Error('The theme is not built (' + manifestFile + ' is missing): run `npm run compile`')
  }
  const text = readFileSync(manifestFile, 'utf8')
  const manifest = JSON.parse(text) as Record<string, ManifestChunk>
  const entry = Object.values(manifest).find((chunk) => chunk.isEntry)
  if (!entry) throw new Error('The theme manifest ' + manifestFile + ' has no entry')
  const files = readdirSync(path.join(dir, 'assets')).map((name) => 'assets/' + name).sort()
  return {
    dir,
    files,
    css: entry.css ?? [],
    js: [entry.file],
    key: createHash('sha256').update(text).digest('hex').slice(0, 32)
  }
}
