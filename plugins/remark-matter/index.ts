import type {Root} from 'mdast'
import type {VFile} from 'vfile'
import {isMap, LineCounter, parseDocument} from 'yaml'
import {reportError} from '../report.js'
import type {Matter, Settings} from './types.js'

export type {Matter, Settings} from './types.js'

type Check = (value: unknown) => string | undefined

const isString: Check = (value) => (typeof value === 'string' ? undefined : 'a string')
const isBoolean: Check = (value) => (typeof value === 'boolean' ? undefined : '`true` or `false`')
const isAll: Check = (value) => (value === 'all' || value === false ? undefined : '`all` (or `false`)')
const isNumber: Check = (value) => (typeof value === 'number' && Number.isFinite(value) ? undefined : 'a number')
const isTags: Check = (value) =>
  typeof value === 'string' || (Array.isArray(value) && value.every((tag) => typeof tag === 'string'))
    ? undefined
    : 'a string or a list of strings'

const checks: Record<string, Check> = {
  title: isString,
  description: isString,
  tags: isTags,
  blockread: isAll,
  chaptread: isAll,
  datasets: isBoolean,
  anki: isBoolean,
  draft: isBoolean,
  order: isNumber
}

const settingKeys = ['blockread', 'chaptread', 'datasets', 'anki', 'draft', 'tags'] as const

/**
 * Read YAML front matter (parsed by remark-frontmatter) into `file.data.matter`
 * and merge it over `file.data.defaults` into `file.data.settings`. Bad YAML and
 * wrong types are positioned errors.
 */
export default function remarkMatter() {
  return (tree: Root, file: VFile): undefined => {
    const node = tree.children[0]
    const matter: Matter = node?.type === 'yaml' ? parse(node.value, node.position?.start.line ?? 1, file) : {}
    file.data.matter = matter
    const settings: Settings = {...file.data.defaults}
    for (const key of settingKeys) {
      if (matter[key] !== undefined) (settings as Record<string, unknown>)[key] = matter[key]
    }
    if (settings.blockread === (false as unknown)) delete settings.blockread
    if (settings.chaptread === (false as unknown)) delete settings.chaptread
    file.data.settings = settings
  }
}

function parse(value: string, firstLine: number, file: VFile): Matter {
  const lineCounter = new LineCounter()
  const document = parseDocument(value, {lineCounter, prettyErrors: false})
  // The YAML starts on the line after `---`.
  const at = (offset: number) => {
    const pos = lineCounter.linePos(offset)
    return {line: firstLine + pos.line, column: pos.col}
  }
  for (const error of document.errors) {
    reportError(file, 'front-matter', {start: at(error.pos[0]), end: at(error.pos[1])},
      'Unexpected front matter: ' + error.message.split('\n')[0])
  }
  if (document.errors.length > 0 || document.contents === null) return {}
  if (!isMap(document.contents)) {
    const range = document.contents.range ?? [0, 0]
    reportError(file, 'front-matter', {start: at(range[0]), end: at(range[1])},
      'Unexpected front matter, expected `key: value` pairs')
    return {}
  }
  const matter: Matter = {}
  for (const pair of document.contents.items) {
    const key = String((pair.key as {value?: unknown} | null)?.value ?? pair.key)
    const raw = pair.value as {toJSON?: () => unknown; range?: [number, number, number]} | null
    const valueOf = raw && typeof raw === 'object' && 'toJSON' in raw ? raw.toJSON?.() : raw
    const check = checks[key]
    const problem = check?.(valueOf)
    if (problem) {
      const range = raw?.range ?? (pair.key as {range?: [number, number, number]}).range ?? [0, 0, 0]
      reportError(file, 'front-matter', {start: at(range[0]), end: at(range[1])},
        'Unexpected value for `' + key + '` in front matter, expected ' + problem)
      continue
    }
    matter[key] = key === 'tags' && typeof valueOf === 'string' ? [valueOf] : valueOf
  }
  return matter
}
