/** A tiny declarative schema: enough to validate the config with precise messages. */
export type Schema =
  | {type: 'string'; pattern?: RegExp; describe?: string}
  | {type: 'number'; integer?: boolean; min?: number; max?: number}
  | {type: 'boolean'}
  | {type: 'enum'; values: readonly unknown[]}
  | {type: 'array'; items: Schema}
  | {type: 'object'; properties: Record<string, Schema>}
  | {type: 'record'; values: Schema}
  | {type: 'any'}

/** Check `value` against `schema`; each problem is one sentence naming the key. */
export function validate(value: unknown, schema: Schema, at: string, problems: string[]): void {
  const name = at === '' ? 'the config' : '`' + at + '`'
  switch (schema.type) {
    case 'any':
      return
    case 'string':
      if (typeof value !== 'string') problems.push(name + ' must be a string, not ' + describe(value))
      else if (schema.pattern && !schema.pattern.test(value)) problems.push(name + ' must be ' + (schema.describe ?? 'of the form ' + schema.pattern) + ', not ' + JSON.stringify(value))
      return
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) problems.push(name + ' must be a number, not ' + describe(value))
      else if (schema.integer && !Number.isInteger(value)) problems.push(name + ' must be a whole number, not ' + value)
      else if (schema.min !== undefined && value < schema.min) problems.push(name + ' must be at least ' + schema.min + ', not ' + value)
      else if (schema.max !== undefined && value > schema.max) problems.push(name + ' must be at most ' + schema.max + ', not ' + value)
      return
    case 'boolean':
      if (typeof value !== 'boolean') problems.push(name + ' must be `true` or `false`, not ' + describe(value))
      return
    case 'enum':
      if (!schema.values.includes(value)) {
        problems.push(name + ' must be one of ' + schema.values.map((item) => JSON.stringify(item)).join(', ') + ', not ' + describe(value))
      }
      return
    case 'array':
      if (!Array.isArray(value)) problems.push(name + ' must be a list, not ' + describe(value))
      else value.forEach((item, index) => validate(item, schema.items, at + '[' + index + ']', problems))
      return
    case 'record':
      if (!isObject(value)) problems.push(name + ' must be an object, not ' + describe(value))
      else for (const [key, item] of Object.entries(value)) validate(item, schema.values, join(at, key), problems)
      return
    case 'object':
      if (!isObject(value)) {
        problems.push(name + ' must be an object, not ' + describe(value))
        return
      }
      for (const [key, item] of Object.entries(value)) {
        const property = schema.properties[key]
        if (property) validate(item, property, join(at, key), problems)
        else problems.push('unknown key `' + join(at, key) + '`' + suggest(key, Object.keys(schema.properties), at))
      }
  }
}

function join(at: string, key: string): string {
  return at === '' ? key : at + '.' + key
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'an object'
  return typeof value + ' ' + JSON.stringify(value)
}

/** "(did you mean `site.title`?)" for a key one or two edits away from a known one. */
function suggest(key: string, known: string[], at: string): string {
  let best: string | undefined
  let bestDistance = 3
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best ? ' (did you mean `' + join(at, best) + '`?)' : ' (known keys: ' + known.map((item) => '`' + item + '`').join(', ') + ')'
}

function editDistance(a: string, b: string): number {
  const row = Array.from({length: b.length + 1}, (_, index) => index)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] as number
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] as number
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1))
      previous = current
    }
  }
  return row[b.length] as number
}
