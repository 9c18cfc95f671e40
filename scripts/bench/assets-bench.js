// The theme's browser assets as a reader downloads them, measured in a real
// build of `content/` (out/site/assets/): what every page loads, and what the
// search dialog and the ask panel load on demand, raw, gzip and brotli.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {brotliCompressSync, gzipSync} from 'node:zlib'
import {repo} from './lib.js'

/** The files one manifest entry brings (its script and CSS; its dynamic imports load later and have their own row). */
function filesOf(manifest, key) {
  const entry = manifest[key]
  return entry ? [entry.file, ...(entry.css ?? [])] : []
}

export async function benchAssets() {
  const out = mkdtempSync(path.join(tmpdir(), 'tagpress-assets-'))
  try {
    const result = spawnSync(process.execPath, [path.join(repo, 'bin/tagpress.js'), 'build', '--clean', '--out', out], {cwd: repo, encoding: 'utf8', env: {...process.env, CI: 'true'}})
    if (result.status !== 0) throw new Error('build failed:\n' + result.stderr)
    const manifest = JSON.parse(readFileSync(path.join(repo, 'dist/theme/.vite/manifest.json'), 'utf8'))
    const groups = [
      ['every page (theme)', 'main.ts'],
      ['search dialog, on first use', 'search.ts'],
      ['search engine (MiniSearch), on first use', 'minisearch.ts'],
      ['ask panel, on first open', 'ask/panel.ts']
    ]
    const lines = [
      '| assets | files | raw | gzip | brotli |',
      '| --- | --- | ---: | ---: | ---: |'
    ]
    const kb = (bytes) => (bytes / 1024).toFixed(1) + ' KB'
    for (const [label, key] of groups) {
      const files = filesOf(manifest, key)
      let raw = 0
      let gzip = 0
      let brotli = 0
      for (const file of files) {
        // The build copies the theme's assets under their hashed names; measure those copies.
        const bytes = readFileSync(path.join(out, 'site', file))
        raw += bytes.length
        gzip += gzipSync(bytes, {level: 9}).length
        brotli += brotliCompressSync(bytes).length
      }
      lines.push(`| ${label} | ${files.map((file) => '`' + path.basename(file) + '`').join(', ')} | ${kb(raw)} | ${kb(gzip)} | ${kb(brotli)} |`)
    }
    return '## Theme assets\n\nMeasured in `out/site/assets/` after `tagpress build` of `content/`. Only the first row loads with a page; the rest load when a reader opens search or the panel.\n\n' + lines.join('\n')
  } finally {
    rmSync(out, {recursive: true, force: true})
  }
}
