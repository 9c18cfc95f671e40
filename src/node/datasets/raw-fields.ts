/**
 * Reading a record line without parsing it, for the export's hot paths. The
 * lines are ones tagpress wrote with JSON.stringify (no whitespace, canonical
 * escapes), so a key is `"name":` and a string value's JSON text can be reused
 * as it is. Anything else (another escape, another type, a missing key) gives
 * `undefined`, and the caller parses the line: the result is the same, only
 * slower.
 *
 * A key inside a string value is escaped (`\"id\":`), so the first `"id":` of a
 * line is the record's own.
 */

/** The fields filters read (`id`, `file_id`, `chapter_id`, `kind`), where they are plain strings. */
export function filterFields(line: string): {id?: string; file_id?: string; chapter_id?: string; kind?: string} | undefined {
  const result: {id?: string; file_id?: string; chapter_id?: string; kind?: string} = {}
  for (const key of ['id', 'file_id', 'chapter_id', 'kind'] as const) {
    const at = line.indexOf('"' + key + '":')
    if (at === -1) continue
    const start = at + key.length + 3
    const end = stringEnd(line, start)
    if (end === -1) return undefined
    const value = line.slice(start + 1, end - 1)
    if (value.includes('\\')) return undefined
    result[key] = value
  }
  return result
}

/**
 * A Q/A record line as its instruction line, `toInstruction` serialized:
 * `{"instruction":question,"input":chapter path,"output":answer,"id","kind":"qa"}`,
 * built from the line's own JSON strings (about three times faster than parse
 * and stringify, which is most of an Alpaca export).
 */
export function qaInstructionLine(line: string): string | undefined {
  if (line.charCodeAt(0) !== 123 || line.charCodeAt(line.length - 1) !== 125) return undefined
  const question = stringValue(line, '"question":')
  const answer = stringValue(line, '"answer":')
  const id = stringValue(line, '"id":')
  const tree = stringArray(line, '"chapter_tree":[')
  if (question === undefined || answer === undefined || id === undefined || tree === undefined) return undefined
  return '{"instruction":' + question + ',"input":"' + tree.join(' > ') + '","output":' + answer + ',"id":' + id + ',"kind":"qa"}'
}

/** The JSON text of a string value (quotes included) after its key, `"key":`. */
function stringValue(line: string, marker: string): string | undefined {
  const at = line.indexOf(marker)
  if (at === -1) return undefined
  const start = at + marker.length
  const end = stringEnd(line, start)
  if (end === -1) return undefined
  const text = line.slice(start, end)
  return canonical(text) ? text : undefined
}

/** The inner JSON texts (no quotes) of an array of strings after its key, `"key":[`. */
function stringArray(line: string, marker: string): string[] | undefined {
  const at = line.indexOf(marker)
  if (at === -1) return undefined
  let index = at + marker.length
  const items: string[] = []
  if (line.charCodeAt(index) === 93) return items
  for (;;) {
    const end = stringEnd(line, index)
    if (end === -1) return undefined
    const text = line.slice(index + 1, end - 1)
    if (!canonical(text)) return undefined
    items.push(text)
    const next = line.charCodeAt(end)
    if (next === 93) return items
    if (next !== 44) return undefined
    index = end + 1
  }
}

/**
 * Where the JSON string starting at `start` ends (after its closing quote),
 * or -1 when there is none. Native `indexOf` finds the quotes; a quote after
 * an odd run of backslashes is escaped. (Like the unfiltered export, this does
 * not validate the line: raw control characters pass through.)
 */
function stringEnd(line: string, start: number): number {
  if (line.charCodeAt(start) !== 34) return -1
  for (let at = start; ; ) {
    at = line.indexOf('"', at + 1)
    if (at === -1) return -1
    let slashes = 0
    while (line.charCodeAt(at - 1 - slashes) === 92) slashes++
    if (slashes % 2 === 0) return at + 1
  }
}

/**
 * Whether a JSON string's text can be reused as JSON.stringify would write
 * its value: no `\u` escape (a lone surrogate, which `wellFormed` replaces,
 * or a spelling JSON.stringify never writes) and no `\/`. An escaped
 * backslash before a `u` also says no: then the line is parsed, same result.
 */
function canonical(text: string): boolean {
  return !text.includes('\\u') && !text.includes('\\/')
}
