// The one-pass SQLite writer against SQLite itself (sql.js): the same tables,
// rows and indexes made by SQLite from CREATE and INSERT statements must read
// back the same, value for value and type for type, and our file must pass
// SQLite's integrity check: b-trees of one, two and three levels, overflow
// chains at the edges of the page rules, every integer width, reals, text.
import {describe, expect, test} from 'vitest'
import type {Database, SqlValue, Statement} from 'sql.js'
import {sqlite} from '../src/node/anki/sqlite.js'
import {blockBytes, pageSize, writeDatabase, type TableSpec} from '../src/node/sqlite/bulk-file.js'
import {integerAffinity, type Value} from '../src/node/sqlite/record.js'

/** Our file, joined from its blocks (checking they come as promised: block 0 last, each but the last whole). */
function written(tables: readonly TableSpec[]): Buffer {
  const blocks: Buffer[] = []
  const order: number[] = []
  const length = writeDatabase(tables, (index, block) => {
    order.push(index)
    blocks[index] = Buffer.from(block)
  }) as number
  expect(order[order.length - 1]).toBe(0)
  expect([...order].sort((a, b) => a - b)).toEqual(blocks.map((_, index) => index))
  blocks.slice(0, -1).forEach((block) => expect(block.length).toBe(blockBytes))
  const file = Buffer.concat(blocks)
  expect(file.length).toBe(length)
  return file
}

/** The same database made by SQLite: the CREATE TABLEs, the rows, then the CREATE INDEXes. */
async function reference(tables: readonly TableSpec[]): Promise<Database> {
  const SQL = await sqlite()
  const db = new SQL.Database()
  for (const table of tables) db.run(table.sql)
  db.run('BEGIN')
  for (const table of tables) {
    let insert: Statement | undefined
    for (const [rowid, values] of table.rows) {
      // Text given as UTF-8 bytes is text: sql.js would bind the bytes as a blob.
      const bound = values.map((value, column) => (column === 0 && value === null ? rowid : value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : value))
      insert ??= db.prepare(`INSERT INTO ${table.name} VALUES (${bound.map(() => '?').join(', ')})`)
      // sql.js binds no bigint, and binds integers past 32 bits as reals: those go into the statement as literals.
      if (bound.some(literal)) db.run(`INSERT INTO ${table.name} VALUES (${bound.map((value) => (literal(value) ? String(value) : '?')).join(', ')})`, bound.filter((value) => !literal(value)) as SqlValue[])
      else insert.run(bound as SqlValue[])
    }
    insert?.free()
  }
  for (const table of tables) for (const index of table.indexes ?? []) db.run(index.sql)
  db.run('COMMIT')
  return db
}

function literal(value: Value): boolean {
  return typeof value === 'bigint' || (Number.isSafeInteger(value) && (value as number) !== ((value as number) | 0))
}

function rows(db: Database, sql: string): unknown[][] {
  return db.exec(sql)[0]?.values ?? []
}

/** Everything a reader could tell apart: each column's type and exact value (`quote` spells reals and big integers out). */
function contents(db: Database, tables: readonly TableSpec[]): Record<string, unknown[][]> {
  const out: Record<string, unknown[][]> = {}
  for (const table of tables) {
    const columns = rows(db, `PRAGMA table_info(${table.name})`).map((row) => row[1] as string)
    out[table.name] = rows(db, `SELECT rowid, ${columns.map((column) => `typeof(${column}), quote(${column})`).join(', ')} FROM ${table.name} ORDER BY rowid`)
    for (const index of table.indexes ?? []) {
      // Read through the index itself: every row, in the index's order.
      const first = rows(db, `PRAGMA index_info(${index.name})`).map((row) => row[2] as string)
      out[index.name] = rows(db, `SELECT ${first.join(', ')}, rowid FROM ${table.name} INDEXED BY ${index.name} ORDER BY ${first.join(', ')}, rowid`)
    }
  }
  out.schema = rows(db, 'SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name')
  return out
}

async function compare(tables: readonly TableSpec[]): Promise<{file: Buffer; db: Database}> {
  const file = written(tables)
  const SQL = await sqlite()
  const ours = new SQL.Database(file)
  const theirs = await reference(tables)
  try {
    expect(rows(ours, 'PRAGMA integrity_check')).toEqual([['ok']])
    expect(file.length).toBe(Number(rows(ours, 'PRAGMA page_count')[0]?.[0]) * pageSize)
    expect(contents(ours, tables)).toEqual(contents(theirs, tables))
  } finally {
    theirs.close()
  }
  return {file, db: ours}
}

const integers = [0, 1, -1, 2, 127, 128, -128, -129, 255, 32767, 32768, -32768, -32769, 8388607, 8388608, -8388608, -8388609, 2147483647, 2147483648, -2147483648, -2147483649, 2 ** 47 - 1, 2 ** 47, -(2 ** 47), -(2 ** 47) - 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]

describe('the one-pass SQLite writer', () => {
  test('empty tables and a table of one row, with their indexes', async () => {
    const tables: TableSpec[] = [
      {name: 'a', sql: 'CREATE TABLE a (id integer primary key, x integer not null, y text)', rows: [], indexes: [{name: 'ix_a_x', sql: 'CREATE INDEX ix_a_x on a (x)', columns: [1]}]},
      {name: 'b', sql: 'CREATE TABLE b (id integer primary key, x integer, y text)', rows: [[7, [null, 3, 'seven']]], indexes: [{name: 'ix_b_x', sql: 'CREATE INDEX ix_b_x on b (x)', columns: [1]}]},
      {name: 'c', sql: 'CREATE TABLE c (u integer not null, v integer not null)', rows: []}
    ]
    const {db} = await compare(tables)
    expect(rows(db, 'SELECT id, x, y FROM b')).toEqual([[7, 3, 'seven']])
    db.close()
  })

  test('every integer width, bigints to 64 bits, reals, NULL, text of every size class, text as bytes', async () => {
    const values: Value[] = [...integers, 2n ** 53n + 1n, 2n ** 62n, -(2n ** 63n), 2n ** 63n - 1n, 1.5, -0.25, 1e300, Infinity, -Infinity, null, '', 'é', 'ünïcödé › text', 'x'.repeat(57), Buffer.from('text given as its UTF-8 bytes ✓'), new Uint8Array(0)]
    const tables: TableSpec[] = [
      {name: 't', sql: 'CREATE TABLE t (id integer primary key, v)', rows: values.map((value, index) => [index + 1, [null, value]])}
    ]
    ;(await compare(tables)).db.close()
  })

  test('payloads at the edges of the overflow rules, and a chain of megabytes', async () => {
    // A table leaf keeps up to 4,061 bytes of a payload (U-35); past that, 489 bytes plus a remainder, the rest on
    // chains of 4,092-byte pages. Text lengths around those edges (the record adds 5 to 6 bytes).
    const lengths = [4050, 4055, 4056, 4057, 4058, 4059, 4060, 4061, 4062, 4063, 4500, 4581, 4582, 4583, 8000, 8674, 8675, 8676, 12767, 100_000]
    const rows_: Array<[number, Value[]]> = lengths.map((length, index) => [index * 3 + 1, [null, index, 'é'.repeat(length % 2) + 'a'.repeat(length - 2 * (length % 2))]])
    rows_.push([1000, [null, -5, 'ü'.repeat(1_500_000)]])
    const tables: TableSpec[] = [
      {name: 'big', sql: 'CREATE TABLE big (id integer primary key, n integer not null, body text not null)', rows: rows_, indexes: [{name: 'ix_big_n', sql: 'CREATE INDEX ix_big_n on big (n)', columns: [1]}]}
    ]
    const {db} = await compare(tables)
    expect(rows(db, 'SELECT length(body) FROM big WHERE id = 1000')).toEqual([[1_500_000]])
    db.close()
  })

  test('three-level table and index b-trees, duplicate keys, keys of several columns', async () => {
    // ~2 KB rows: two a leaf, 8,000 leaves, more than one interior page can point to. Small index entries: ~300 a
    // leaf, and 120,000 of them fill more leaves than one interior page holds.
    const text = (index: number) => 'row ' + index + ' ' + 'lorem ipsum '.repeat(160 + (index % 7))
    const wide: Array<[number, Value[]]> = Array.from({length: 16_000}, (_, index) => [index * 2 + 5, [null, text(index), index % 13]])
    const many: Array<[number, Value[]]> = Array.from({length: 120_000}, (_, index) => [1_700_000_000_000 + index, [null, (index * 7919) % 5003, index % 3 === 0 ? -1 : index % 5, (index * 104729) % 1_000_003]])
    const tables: TableSpec[] = [
      {name: 'wide', sql: 'CREATE TABLE wide (id integer primary key, body text not null, k integer not null)', rows: wide, indexes: [{name: 'ix_wide_k', sql: 'CREATE INDEX ix_wide_k on wide (k)', columns: [2]}]},
      {
        name: 'many',
        sql: 'CREATE TABLE many (id integer primary key, a integer not null, b integer not null, c integer not null)',
        rows: many,
        indexes: [
          {name: 'ix_many_a', sql: 'CREATE INDEX ix_many_a on many (a)', columns: [1]},
          {name: 'ix_many_abc', sql: 'CREATE INDEX ix_many_abc on many (a, b, c)', columns: [1, 2, 3]},
          {name: 'ix_many_b', sql: 'CREATE INDEX ix_many_b on many (b)', columns: [2]}
        ]
      }
    ]
    const {file, db} = await compare(tables)
    // Three levels: the root of each big tree is an interior page whose first child is interior too.
    for (const name of ['wide', 'ix_many_abc']) {
      const root = Number(rows(db, `SELECT rootpage FROM sqlite_master WHERE name = '${name}'`)[0]?.[0])
      const page = (number: number) => file.subarray((number - 1) * pageSize, number * pageSize)
      const rootPage = page(root)
      expect([0x05, 0x02]).toContain(rootPage[0])
      // The first cell (its offset is the first cell pointer, after the 12-byte header) starts with its child's number.
      const child = rootPage.readUInt32BE(rootPage.readUInt16BE(12))
      expect([0x05, 0x02]).toContain(page(child)[0])
    }
    db.close()
  })

  test('every index size where a page fills up as the last entry comes: leaves, and interior pages', async () => {
    const SQL = await sqlite()
    // Entries of one size: a full leaf holds the same number every time, so each count below ends on every
    // remainder, including the one where the last entry finds its page full (it must not move up alone).
    const check = (count: number, big: boolean): void => {
      const value = (row: number): number => (big ? 2 ** 52 + (row % 1000) : row % 3)
      const rows_: Array<[number, Value[]]> = Array.from({length: count}, (_, index) => [2 ** 50 + index, [null, value(index), value(index + 1), value(index + 2)]])
      const db = new SQL.Database(written([{name: 't', sql: 'CREATE TABLE t (id integer primary key, a, b, c)', rows: rows_, indexes: [{name: 'ix', sql: 'CREATE INDEX ix on t (a, b, c)', columns: [1, 2, 3]}]}]))
      try {
        expect(rows(db, 'PRAGMA integrity_check'), String(count)).toEqual([['ok']])
        expect(rows(db, 'SELECT count(*) FROM t INDEXED BY ix WHERE a >= 0')).toEqual([[count]])
      } finally {
        db.close()
      }
    }
    // Small keys: a leaf fills as the last entry comes at 241 entries.
    for (let count = 1; count <= 250; count++) check(count, false)
    // Big keys (40 bytes a leaf cell, 44 an interior one): 102 a leaf, 92 separators an interior page. A leaf fills
    // as the last entry comes at 103; an interior page as the last separator comes from 9,579 to 9,681.
    for (const count of [102, 103, 104, 9578, 9579, 9580, 9681, 9682]) check(count, true)
  })

  test('stops when asked, before every 32nd row; refuses rows out of order and keys it cannot sort', () => {
    let asked = 0
    const rows_: Array<[number, Value[]]> = Array.from({length: 100}, (_, index) => [index + 1, [null, index]])
    expect(writeDatabase([{name: 't', sql: 'CREATE TABLE t (id integer primary key, v)', rows: rows_}], () => undefined, () => ++asked === 3)).toBeUndefined()
    expect(asked).toBe(3)
    expect(() => writeDatabase([{name: 't', sql: 'CREATE TABLE t (id integer primary key, v)', rows: [[2, [null, 1]], [2, [null, 2]]]}], () => undefined)).toThrow(/ascending rowid: 2 after 2/)
    // An index on a column that is not an integer (here the rowid alias, stored as NULL) is refused, not written corrupt.
    const index = {name: 'ix_t_id', sql: 'CREATE INDEX ix_t_id on t (id)', columns: [0]}
    expect(() => writeDatabase([{name: 't', sql: 'CREATE TABLE t (id integer primary key, v)', rows: [[1, [null, 1]]], indexes: [index]}], () => undefined)).toThrow(/ix_t_id holds integers only, got null in row 1/)
  })

  test('a text stored in an INTEGER column: numbers become numbers as SQLite makes them', async () => {
    const texts = ['42', ' 7 ', '\t8\n', '3.0', '1e3', '1.5', '-0', '+5', '00012', '0x10', '1.', '.5', '.', '1e', '-', '', 'abc', '12abc', '1 2', '9223372036854775807', '9223372036854775808', '-9223372036854775808', '-9223372036854775809', '9007199254740993', '12345678901234567', '1e18', '1e19', '-1e19', '1e400', '2.5e-3', ' +.5e+2 ', '0.1', '٣', '１２',
      // Past 19 significant digits SQLite drops the rest, where a correctly rounded parse differs (a review's finds).
      '4602469451447368.5006', '+512974438946750112.06', ' 6153691996544672727362', '-0.000000000000000000001234567890123456789012', '00000000000000000000000012345678901234567890.5', '12345678901234567890123e-3']
    const tables: TableSpec[] = [{name: 'n', sql: 'CREATE TABLE n (id integer primary key, v integer not null)', rows: texts.map((text, index) => [index + 1, [null, integerAffinity(text)]])}]
    // The reference binds the raw text: SQLite applies the column's affinity itself.
    const raw: TableSpec[] = [{...tables[0]!, rows: texts.map((text, index) => [index + 1, [null, text]])}]
    const SQL = await sqlite()
    const ours = new SQL.Database(written(tables))
    const theirs = await reference(raw)
    expect(contents(ours, tables)).toEqual(contents(theirs, raw))
    ours.close()
    theirs.close()
  })
})
