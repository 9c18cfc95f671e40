/**
 * SQLite's record format (https://www.sqlite.org/fileformat2.html#record_format):
 * varints, serial types and the column affinity that decides them, so that a
 * row written here is stored as SQLite itself would store the same INSERT.
 */

/** A column value: NULL, an integer (a bigint past 2^53) or real number, or text: a string, or its UTF-8 bytes. */
export type Value = null | number | bigint | string | Uint8Array

/** Bytes of `value` as a SQLite varint (big-endian, 7 bits a byte; values here stay below 2^53, so never the 9-byte form). */
export function varintLength(value: number): number {
  let length = 1
  while (value >= 128) {
    value = Math.floor(value / 128)
    length++
  }
  return length
}

/** Writes `value` as a varint at `offset`; returns the offset after it. */
export function writeVarint(target: Uint8Array, offset: number, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error('A varint holds a non-negative safe integer, got ' + value)
  const length = varintLength(value)
  for (let index = length - 1; index >= 0; index--) {
    target[offset + index] = (value % 128) | (index === length - 1 ? 0 : 0x80)
    value = Math.floor(value / 128)
  }
  return offset + length
}

/** Serial type and body length of an integer: the smallest that holds it, as SQLite picks (0 and 1 cost no body). */
function integerType(value: number): [type: number, bytes: number] {
  if (value === 0) return [8, 0]
  if (value === 1) return [9, 0]
  if (value >= -128 && value <= 127) return [1, 1]
  if (value >= -32768 && value <= 32767) return [2, 2]
  if (value >= -8388608 && value <= 8388607) return [3, 3]
  if (value >= -2147483648 && value <= 2147483647) return [4, 4]
  if (value >= -140737488355328 && value <= 140737488355327) return [5, 6]
  return [6, 8]
}

/** A growable buffer that records are encoded into, reused from row to row (no allocation per row). */
export class Scratch {
  bytes = Buffer.allocUnsafe(1 << 16)

  /** Room for `length` bytes, keeping none of the old ones. */
  reserve(length: number): Buffer {
    if (this.bytes.length < length) this.bytes = Buffer.allocUnsafe(Math.max(length, this.bytes.length * 2))
    return this.bytes
  }
}

const types: number[] = []
const sizes: number[] = []

/** Encodes `values` as a record at the start of `scratch`; returns its length. */
export function encodeRecordInto(scratch: Scratch, values: readonly Value[]): number {
  let headerTypes = 0
  let body = 0
  for (let index = 0; index < values.length; index++) {
    const value = values[index] as Value
    let type: number
    let size: number
    if (value === null) [type, size] = [0, 0]
    else if (typeof value === 'string') {
      size = Buffer.byteLength(value)
      type = size * 2 + 13
    } else if (value instanceof Uint8Array) {
      size = value.length
      type = size * 2 + 13
    } else if (typeof value === 'bigint') {
      if (value < -(2n ** 63n) || value >= 2n ** 63n) throw new Error('SQLite integers have 64 bits, got ' + value)
      ;[type, size] = value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? integerType(Number(value)) : [6, 8]
    } else if (Number.isSafeInteger(value)) [type, size] = integerType(value)
    else if (!Number.isNaN(value)) [type, size] = [7, 8]
    else throw new Error('SQLite stores no NaN (it becomes NULL); got NaN')
    types[index] = type
    sizes[index] = size
    headerTypes += varintLength(type)
    body += size
  }
  // The header's length counts its own varint.
  let header = headerTypes + 1
  while (varintLength(header) + headerTypes !== header) header = varintLength(header + 1) + headerTypes
  const record = scratch.reserve(header + body)
  let at = writeVarint(record, 0, header)
  for (let index = 0; index < values.length; index++) at = writeVarint(record, at, types[index] as number)
  for (let index = 0; index < values.length; index++) {
    const value = values[index] as Value
    const size = sizes[index] as number
    if (typeof value === 'string') at += record.write(value, at, size, 'utf8')
    else if (value instanceof Uint8Array) {
      record.set(value, at)
      at += size
    } else if (value !== null && size > 0) {
      if (types[index] === 7) record.writeDoubleBE(value as number, at)
      else if (size <= 6) record.writeIntBE(Number(value), at, size)
      else record.writeBigInt64BE(BigInt(value), at)
      at += size
    }
  }
  return header + body
}

/** An encoded record in a buffer of its own. */
export function encodeRecord(values: readonly Value[]): Buffer {
  const scratch = new Scratch()
  return Buffer.from(scratch.bytes.subarray(0, encodeRecordInto(scratch, values)))
}

/**
 * A text value as a column of INTEGER affinity stores it: a well-formed number becomes an integer (or a real that no
 * integer equals), anything else stays text. SQLite's rule (`applyNumericAffinity`): spaces around the number are
 * allowed, hexadecimal is not; an integer literal past 64 bits becomes a real.
 */
export function integerAffinity(text: string): Value {
  if (!numeric.test(text)) return text
  const trimmed = text.trim()
  if (/^[+-]?\d+$/.test(trimmed)) {
    const big = BigInt(trimmed)
    if (big >= -(2n ** 63n) && big < 2n ** 63n) return Number.isSafeInteger(Number(big)) ? Number(big) : big
  }
  // A real, kept as an integer where one equals it (`sqlite3VdbeIntegerAffinity`), past 2^53 as a bigint.
  const real = sqliteReal(trimmed)
  if (Number.isInteger(real) && Math.abs(real) < 2 ** 63) return Number.isSafeInteger(real) ? real : BigInt(real)
  return real
}

/**
 * A number's text read as SQLite reads it (`sqlite3AtoF`): only its first 19 significant digits count, the rest are
 * dropped, not rounded. `Number` rounds on all of them, and gave another double for ~1 in 25,000 random texts of
 * 20 or more digits ('4602469451447368.5006': SQLite 4602469451447368, `Number` 4602469451447369). What is left:
 * SQLite's scaling by the power of ten is not always correctly rounded, so ~1 in 100,000 such texts (a review's
 * fuzzer: 4 of 500,000) still differ in the last bit. Anki computes `sfld` again when it imports a note.
 */
function sqliteReal(text: string): number {
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = /^([+-]?)(\d*)\.?(\d*)(?:[eE]([+-]?\d+))?$/.exec(text) ?? []
  const digits = (whole + fraction).replace(/^0+/, '')
  if (digits.length <= 19) return Number(text)
  // The digits past the 19th are dropped: the point moves by as many places as the dropped digits of the whole part.
  const dropped = digits.length - 19
  // Past ±10,000 the value is 0 or infinite either way (and an exponent of 21 digits would print as 1e+21).
  const scale = Math.max(-10000, Math.min(10000, Number(exponent) - fraction.length + dropped))
  return Number(sign + digits.slice(0, 19) + 'e' + scale)
}

/** SQLite's well-formed number: optional sign, digits with an optional point (or a point and digits), optional exponent. */
const numeric = /^[ \t\n\f\r\v]*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[ \t\n\f\r\v]*$/
