import {appendFileSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {packageRoot} from '../../node/package-root.js'

const ignored = ['out/', '.tagpress/']

/**
 * `tagpress init [DIR]`: a config, a starter `content/` and ignore rules,
 * never overwriting a file that exists.
 */
export async function runInit(dir: string): Promise<number> {
  const root = path.resolve(dir)
  mkdirSync(root, {recursive: true})
  const created: string[] = []
  const kept: string[] = []

  const config = path.join(root, 'tagpress.config.json')
  if (existsSync(config)) kept.push('tagpress.config.json')
  else {
    const title = path.basename(root)
    writeFileSync(config, JSON.stringify({site: {title, base: '/'}, anki: {deck: title}}, null, 2) + '\n')
    created.push('tagpress.config.json')
  }

  const templates = path.join(packageRoot, 'templates', 'init')
  for (const file of readdirSync(templates, {recursive: true, encoding: 'utf8'}).sort()) {
    const from = path.join(templates, file)
    if (!file.endsWith('.md')) continue
    const to = path.join(root, file)
    if (existsSync(to)) {
      kept.push(file)
      continue
    }
    mkdirSync(path.dirname(to), {recursive: true})
    copyFileSync(from, to)
    created.push(file.split(path.sep).join('/'))
  }

  const gitignore = path.join(root, '.gitignore')
  const current = existsSync(gitignore) ? readFileSync(gitignore, 'utf8') : ''
  const missing = ignored.filter((entry) => !current.split('\n').some((line) => line.trim() === entry || line.trim() === entry.slice(0, -1)))
  if (missing.length > 0) {
    appendFileSync(gitignore, (current && !current.endsWith('\n') ? '\n' : '') + missing.join('\n') + '\n')
    created.push('.gitignore (' + missing.join(', ') + ')')
  }

  const lines = [
    ...created.map((file) => '  created ' + file),
    ...kept.map((file) => '  kept    ' + file + ' (exists)'),
    '',
    'Next: npx tagpress build   (site in out/site/, datasets in out/datasets/)'
  ]
  process.stdout.write('tagpress: initialised ' + root + '\n' + lines.join('\n') + '\n')
  return 0
}
