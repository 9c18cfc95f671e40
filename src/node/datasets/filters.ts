import {UserError} from '../errors.js'

/** What a filter tests: the chapter number, the file, the file's tags, the kind, the record id. */
export const filterKeys = ['chapter', 'file', 'tag', 'kind', 'id'] as const
export type FilterKey = (typeof filterKeys)[number]

export interface Filter {
  key: FilterKey
  value: string
}

/** `chapter=1.2` → `{key: 'chapter', value: '1.2'}`; an unknown key or a missing value is a `UserError`. */
export function parseFilter(spec: string): Filter {
  const at = spec.indexOf('=')
  const key = (at === -1 ? spec : spec.slice(0, at)).trim()
  const value = at === -1 ? '' : spec.slice(at + 1).trim()
  if (!(filterKeys as readonly string[]).includes(key)) {
    throw new UserError('Unknown filter `' + spec + '`: use ' + filterKeys.map((name) => '`' + name + '=…`').join(', '))
  }
  if (value === '') throw new UserError('The filter `' + spec + '` needs a value, like `' + key + '=' + example[key as FilterKey] + '`')
  return {key: key as FilterKey, value}
}

const example: Record<FilterKey, string> = {chapter: '1.2', file: 'guide/*', tag: 'training', kind: 'code', id: 'guide/intro#block7'}

/** The fields filters read; every record shape has them (or lacks them, and then only `file` and `tag` can match). */
export interface Filterable {
  file_id?: unknown
  chapter_id?: unknown
  kind?: unknown
  id?: unknown
}

export type RecordTest = (record: Filterable, dataset: string) => boolean

/**
 * Compile filters into one test. Filters with the same key are alternatives
 * (`tag=a --filter tag=b`: either tag); different keys must all match.
 * - `chapter=1.2`: section 1.2 and its subsections (`1.2.1`, …), in any file;
 * - `file=guide/*`: a glob on the file id (`*` within a folder, `**` across,
 *   `?` one character); it also matches files under a matching folder, so
 *   `guide/*` and `guide` take the whole `guide/` tree; a `.md` suffix is ignored;
 * - `tag=x`: files whose front matter (or folder defaults) have tag `x`;
 * - `kind=code`: a block's kind, or a dataset (`qa`, `blocks`, `chapters`) in combined exports;
 * - `id=…`: a record id, exactly.
 */
export function compileFilters(filters: readonly Filter[], tagsOf?: (fileId: string) => readonly string[] | undefined): RecordTest | undefined {
  if (filters.length === 0) return undefined
  const groups = new Map<FilterKey, string[]>()
  for (const filter of filters) groups.set(filter.key, [...(groups.get(filter.key) ?? []), filter.value])
  const tests: RecordTest[] = []
  for (const [key, values] of groups) {
    switch (key) {
      case 'chapter': {
        const prefixes = values.map((value) => value.replace(/\.+$/, ''))
        tests.push((record) => {
          const chapter = typeof record.chapter_id === 'string' ? record.chapter_id : ''
          return prefixes.some((prefix) => chapter === prefix || chapter.startsWith(prefix + '.'))
        })
        break
      }
      case 'file': {
        const patterns = values.map(globPattern)
        const cache = new Map<string, boolean>()
        tests.push((record) => {
          const fileId = typeof record.file_id === 'string' ? record.file_id : ''
          let hit = cache.get(fileId)
          if (hit === undefined) {
            hit = patterns.some((pattern) => matchesPath(pattern, fileId))
            if (cache.size > 100_000) cache.clear()
            cache.set(fileId, hit)
          }
          return hit
        })
        break
      }
      case 'tag': {
        if (!tagsOf) throw new UserError('Tag filters need the list of sources that `tagpress build` writes to out/datasets/litgpt/sources.jsonl; build first')
        const wanted = new Set(values)
        tests.push((record) => {
          const tags = tagsOf(typeof record.file_id === 'string' ? record.file_id : '')
          return tags !== undefined && tags.some((tag) => wanted.has(tag))
        })
        break
      }
      case 'kind': {
        const wanted = new Set(values)
        tests.push((record, dataset) => wanted.has(dataset) || (typeof record.kind === 'string' && wanted.has(record.kind)))
        break
      }
      case 'id': {
        const wanted = new Set(values)
        tests.push((record) => typeof record.id === 'string' && wanted.has(record.id))
        break
      }
    }
  }
  return (record, dataset) => tests.every((test) => test(record, dataset))
}

/** A file glob as a regular expression over a whole path. */
export function globPattern(glob: string): RegExp {
  const clean = glob.replace(/^\.?\/+/, '').replace(/\/+$/, '').replace(/\.md$/i, '')
  let source = ''
  for (let index = 0; index < clean.length; index++) {
    const char = clean[index] as string
    if (char === '*') {
      if (clean[index + 1] === '*') {
        index++
        if (clean[index + 1] === '/') {
          index++
          source += '(?:.*/)?'
        } else source += '.*'
      } else source += '[^/]*'
    } else if (char === '?') source += '[^/]'
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp('^' + source + '$')
}

/** The path or one of its parent folders matches. */
function matchesPath(pattern: RegExp, fileId: string): boolean {
  if (pattern.test(fileId)) return true
  for (let at = fileId.lastIndexOf('/'); at > 0; at = fileId.lastIndexOf('/', at - 1)) {
    if (pattern.test(fileId.slice(0, at))) return true
  }
  return false
}
