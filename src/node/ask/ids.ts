import {randomBytes} from 'node:crypto'

/** Session and node ids: `s_`/`n_`, the time in base 36 (sorts by creation), then 12 random base-36 characters. */
export function newId(prefix: 's' | 'n'): string {
  const time = Date.now().toString(36).padStart(9, '0')
  let random = ''
  for (const byte of randomBytes(12)) random += (byte % 36).toString(36)
  return prefix + '_' + time + random
}

/** Whether a string can be an id of ours (also what makes it safe as a file name). */
export function isId(value: unknown, prefix?: 's' | 'n'): value is string {
  return typeof value === 'string' && /^[sn]_[0-9a-z]{8,40}$/.test(value) && (prefix === undefined || value.startsWith(prefix + '_'))
}
