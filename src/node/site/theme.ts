import {createHash} from 'node:crypto'
import {cpSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync} from 'node:fs'
import {createRequire} from 'node:module'
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

/** Theme sources that are build configuration, not theme. */
const notTheme = new Set(['vite.config.ts', 'tsconfig.json'])

/**
 * The theme for a project: the packaged one, or, when the project has a
 * `site/` folder, the packaged theme with the project's files laid over it
 * (same path wins), built with Vite into `.tagpress/theme/<hash>/` once per
 * distinct set of sources.
 */
export async function resolveTheme(projectRoot: string, stateDir: string): Promise<Theme> {
  const userSite = path.join(projectRoot, 'site')
  const packageSite = path.join(packageRoot, 'site')
  if (!existsSync(userSite) || realpathSync(userSite) === realpathSync(packageSite)) return loadTheme()
  const sources = new Map<string, string>()
  for (const dir of [packageSite, userSite]) {
    for (const file of readdirSync(dir, {recursive: true, encoding: 'utf8'})) {
      const absolute = path.join(dir, file)
      if (!notTheme.has(file) && !readdirSafe(absolute)) sources.set(file.split(path.sep).join('/'), absolute)
    }
  }
  const hash = createHash('sha256')
  for (const [file, absolute] of [...sources].sort(([a], [b]) => (a < b ? -1 : 1))) hash.update(file).update('\0').update(readFileSync(absolute)).update('\0')
  const key = hash.digest('hex').slice(0, 16)
  const outDir = path.join(stateDir, 'theme', key)
  if (existsSync(path.join(outDir, '.vite', 'manifest.json'))) return loadTheme(outDir)

  const srcDir = path.join(stateDir, 'theme-src', key)
  rmSync(srcDir, {recursive: true, force: true})
  for (const [file, absolute] of sources) {
    mkdirSync(path.dirname(path.join(srcDir, file)), {recursive: true})
    cpSync(absolute, path.join(srcDir, file))
  }
  const {build} = await import('vite')
  const require = createRequire(path.join(packageRoot, 'package.json'))
  await build({
    root: srcDir,
    base: './',
    configFile: false,
    publicDir: false,
    logLevel: 'warn',
    resolve: {alias: {minisearch: require.resolve('minisearch')}},
    build: {
      outDir,
      emptyOutDir: true,
      manifest: true,
      modulePreload: false,
      reportCompressedSize: false,
      target: 'es2022',
      rollupOptions: {
        input: {main: path.join(srcDir, 'main.ts')},
        output: {entryFileNames: 'assets/[name]-[hash].js', chunkFileNames: 'assets/[name]-[hash].js', assetFileNames: 'assets/[name]-[hash][extname]'}
      }
    }
  })
  rmSync(srcDir, {recursive: true, force: true})
  return loadTheme(outDir)
}

function readdirSafe(file: string): boolean {
  try {
    readdirSync(file)
    return true
  } catch {
    return false
  }
}
