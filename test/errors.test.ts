import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {rules} from '../plugins/report.js'
import {checkLinks} from '../src/node/build/link-check.js'
import {BuildCache} from '../src/node/build/cache.js'
import {compile} from './helpers/compile.js'

// One folder per catalogue entry (docs/errors.md): `input.md` and the exact
// messages it must give in `messages.txt` (`line:column: reason [code]`).
// `UPDATE=1` writes missing files; read what it wrote before committing.
const root = path.join(import.meta.dirname, 'fixtures', 'errors')
const folders = readdirSync(root).sort()

describe('error catalogue', () => {
  it('has one fixture per rule, named after it', () => {
    const named = folders.map((folder) => folder.slice(0, 5) + ' ' + folder.slice(6))
    const catalogue = Object.entries(rules).map(([rule, code]) => code + ' ' + rule).sort()
    expect(named).toEqual(catalogue)
  })

  it('documents every rule in docs/errors.md with its fixture', () => {
    const docs = readFileSync(path.join(import.meta.dirname, '..', 'docs', 'errors.md'), 'utf8')
    for (const folder of folders) {
      const input = readFileSync(path.join(root, folder, 'input.md'), 'utf8')
      const messages = readFileSync(path.join(root, folder, 'messages.txt'), 'utf8')
      expect(docs, folder).toContain('## ' + folder.slice(0, 5) + ' `' + folder.slice(6) + '`')
      expect(docs, folder).toContain(input.trimEnd())
      expect(docs, folder).toContain(messages.trimEnd())
    }
  })

  for (const folder of folders) {
    it(folder, async () => {
      const input = readFileSync(path.join(root, folder, 'input.md'), 'utf8')
      const {compiled} = await compile(input, 'guide/setup.md')
      const {meta} = BuildCache.encode(compiled)
      const linkMessages = checkLinks(new Map([['guide/setup.md', meta]]), new Set([meta.fileId])).get('guide/setup.md') ?? []
      const messages = [...compiled.messages, ...linkMessages]
      const text = messages.map((message) => `${message.line}:${message.column}: ${message.reason} [${message.code}]\n`).join('')
      const expectedFile = path.join(root, folder, 'messages.txt')
      if (process.env.UPDATE && !existsSync(expectedFile)) writeFileSync(expectedFile, text)
      expect(text).toBe(readFileSync(expectedFile, 'utf8'))
      expect(messages.every((message) => message.fatal)).toBe(true)
      expect(messages.every((message) => message.code === folder.slice(0, 5))).toBe(true)
    })
  }
})
