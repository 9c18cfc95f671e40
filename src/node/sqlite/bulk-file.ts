import {encodeRecord, encodeRecordInto, Scratch, varintLength, writeVarint, type Value} from './record.js'

/**
 * A SQLite database file written in one pass from rows that are all known at
 * once (https://www.sqlite.org/fileformat2.html): each table's rows in rowid
 * order fill leaf pages front to back, each index is sorted and packed the
 * same way, and the interior pages above them come last. Nothing is updated
 * in place, so every page is final when it is made and goes out in blocks
 * of a mebibyte as they fill; page 1, the header and the schema, is made
 * last. The `.apkg` writer used sql.js before, which kept the database in
 * WebAssembly memory and copied it whole to export it: ~160 MB at peak for
 * the 50 MB collection of the 10,000-file bench corpus.
 *
 * Made for Anki's schema-11 collection: rowid tables, integer index keys,
 * UTF-8 text, 4096-byte pages.
 */

export const pageSize = 4096
const usable = pageSize
/** The file goes out in blocks of a mebibyte: the zip deflates each as a slice of its own. */
export const blockBytes = 1 << 20
const pagesPerBlock = blockBytes / pageSize

const tableLeaf = 0x0d
const tableInterior = 0x05
const indexLeaf = 0x0a
const indexInterior = 0x02

/** What one table holds: its `CREATE TABLE`, its rows in rowid order, and its indexes. */
export interface TableSpec {
  name: string
  sql: string
  /**
   * Rowid and record values (the INTEGER PRIMARY KEY column, an alias of the rowid, as null), rowids ascending. A row
   * may come with its record already encoded (`encodeRecord(values)`, kept from an earlier build): its values then
   * need to hold only the columns its indexes read.
   */
  rows: Iterable<[rowid: number, values: readonly Value[], record?: Uint8Array]>
  indexes?: readonly IndexSpec[]
}

export interface IndexSpec {
  name: string
  sql: string
  /** Which of the row's values the index holds, in order. They must be integers: the index sorts them as numbers. */
  columns: readonly number[]
}

/**
 * Receives each block of the file once it is final: block 0 (with page 1) last, each block but the last whole. The
 * bytes are only the block's during the call: the buffer is reused for the next one (50 blocks of garbage at 50 MB).
 */
export type BlockSink = (index: number, block: Buffer) => void

/** The database's pages, numbered in the order they are made; page 1 (header and schema) is reserved and filled last. */
class Pages {
  private block: Buffer | undefined
  private first: Buffer | undefined
  count = 0

  constructor(private readonly sink: BlockSink) {}

  /** A new zeroed page: its number and its bytes. The block before it is final once a new one starts. */
  allocate(): [number, Buffer] {
    const index = this.count++
    if (index % pagesPerBlock === 0) {
      if (index === pagesPerBlock) this.block = Buffer.alloc(blockBytes)
      else if (index > pagesPerBlock) {
        this.sink(index / pagesPerBlock - 1, this.block as Buffer)
        ;(this.block as Buffer).fill(0)
      } else this.block = this.first = Buffer.alloc(blockBytes)
    }
    const start = (index % pagesPerBlock) * pageSize
    return [index + 1, (this.block as Buffer).subarray(start, start + pageSize)]
  }

  /** Page 1, kept until the end. */
  firstPage(): Buffer {
    return (this.first as Buffer).subarray(0, pageSize)
  }

  /** Hands over the last block and block 0, each cut to its pages; returns the file's length. */
  finish(): number {
    const blocks = Math.ceil(this.count / pagesPerBlock)
    const tail = this.count - (blocks - 1) * pagesPerBlock
    if (blocks > 1) this.sink(blocks - 1, (this.block as Buffer).subarray(0, tail * pageSize))
    this.sink(0, (this.first as Buffer).subarray(0, (blocks > 1 ? pagesPerBlock : tail) * pageSize))
    return this.count * pageSize
  }
}

/**
 * How much of a payload stays on the b-tree page; the rest goes to overflow pages. `most` is X of the file format's
 * rules: U-35 on table leaves, ((U-12)*64/255)-23 on index pages.
 */
function localBytes(payload: number, most: number): number {
  if (payload <= most) return payload
  const least = Math.floor(((usable - 12) * 32) / 255) - 23
  const local = least + ((payload - least) % (usable - 4))
  return local <= most ? local : least
}

const tableMost = usable - 35
const indexMost = Math.floor(((usable - 12) * 64) / 255) - 23

/** Writes `payload[local:]` to a chain of new overflow pages; returns the first one's number. */
function overflow(pages: Pages, payload: Uint8Array, local: number): number {
  const firstPage = pages.count + 1
  for (let rest = local; rest < payload.length; ) {
    const [number, page] = pages.allocate()
    const take = Math.min(usable - 4, payload.length - rest)
    page.writeUInt32BE(rest + take < payload.length ? number + 1 : 0, 0)
    page.set(payload.subarray(rest, rest + take), 4)
    rest += take
  }
  return firstPage
}

/**
 * The page being filled: cells packed against its end in a reused buffer, their offsets in key order. Emitting it
 * makes the page (header, cell pointers, cells) and starts an empty one.
 */
class PageBuilder {
  private readonly staging = Buffer.alloc(pageSize)
  private offsets: number[] = []
  private content = pageSize

  constructor(private readonly interior: boolean) {}

  get count(): number {
    return this.offsets.length
  }

  /** Whether a cell of `bytes` fits beside the ones in. */
  fits(bytes: number): boolean {
    return (this.interior ? 12 : 8) + (this.offsets.length + 1) * 2 + bytes <= this.content
  }

  /** Room for the next cell: the buffer and where the cell goes in it. */
  add(bytes: number): [Buffer, number] {
    this.content -= bytes
    this.offsets.push(this.content)
    return [this.staging, this.content]
  }

  /** Takes the last cell back out: a copy of its bytes. */
  pop(): Buffer {
    const at = this.offsets.pop() as number
    const end = this.offsets.length > 0 ? (this.offsets[this.offsets.length - 1] as number) : pageSize
    this.content = end
    return Buffer.from(this.staging.subarray(at, end))
  }

  /** Makes the page of `type` from the cells in; returns its number. */
  emit(pages: Pages, type: number, rightmost?: number): number {
    const [number, page] = pages.allocate()
    const header = this.interior ? 12 : 8
    page[0] = type
    page.writeUInt16BE(this.offsets.length, 3)
    page.writeUInt16BE(this.content, 5)
    if (this.interior) page.writeUInt32BE(rightmost as number, 8)
    this.offsets.forEach((offset, index) => page.writeUInt16BE(offset, header + index * 2))
    this.staging.copy(page, this.content, this.content, pageSize)
    this.offsets = []
    this.content = pageSize
    return number
  }
}

/** A table's b-tree: leaves filled in rowid order, then interior levels up to one root. Returns the root page. */
function writeTable(pages: Pages, scratch: Scratch, rows: TableSpec['rows'], stopping: () => boolean, onRow: (values: readonly Value[], rowid: number) => void): number | undefined {
  const leaf = new PageBuilder(false)
  let lastRowid = -Infinity
  const leaves: Array<[page: number, maxRowid: number]> = []
  let count = 0
  for (const [rowid, values, encoded] of rows) {
    if (count++ % stopEvery === 0 && stopping()) return undefined
    if (!(rowid > lastRowid)) throw new Error('Rows go in by ascending rowid: ' + rowid + ' after ' + lastRowid)
    onRow(values, rowid)
    const length = encoded ? encoded.length : encodeRecordInto(scratch, values)
    const record = encoded ?? scratch.bytes
    const local = localBytes(length, tableMost)
    const cellBytes = varintLength(length) + varintLength(rowid) + local + (local < length ? 4 : 0)
    if (!leaf.fits(cellBytes)) leaves.push([leaf.emit(pages, tableLeaf), lastRowid])
    const [page, at] = leaf.add(cellBytes)
    const start = writeVarint(page, writeVarint(page, at, length), rowid)
    page.set(record.subarray(0, local), start)
    if (local < length) page.writeUInt32BE(overflow(pages, record.subarray(0, length), local), start + local)
    lastRowid = rowid
  }
  if (leaf.count > 0 || leaves.length === 0) leaves.push([leaf.emit(pages, tableLeaf), lastRowid])
  let level = leaves
  while (level.length > 1) level = tableInteriorLevel(pages, level)
  return (level[0] as [number, number])[0]
}

/**
 * One interior level over `children` (page, largest rowid under it): as few pages as hold them, the children spread
 * evenly, so every page points to at least two.
 */
function tableInteriorLevel(pages: Pages, children: ReadonlyArray<[number, number]>): Array<[number, number]> {
  // An interior cell is a 4-byte child and a rowid of up to 9 bytes, with its 2-byte pointer; the last child is the right pointer.
  const perPage = Math.floor((usable - 12) / 15) + 1
  const count = Math.ceil(children.length / perPage)
  const builder = new PageBuilder(true)
  const level: Array<[number, number]> = []
  let from = 0
  for (let index = 0; index < count; index++) {
    const to = from + Math.floor(children.length / count) + (index < children.length % count ? 1 : 0)
    for (const [child, key] of children.slice(from, to - 1)) {
      const [page, at] = builder.add(4 + varintLength(key))
      page.writeUInt32BE(child, at)
      writeVarint(page, at + 4, key)
    }
    const [rightmost, key] = children[to - 1] as [number, number]
    level.push([builder.emit(pages, tableInterior, rightmost), key])
    from = to
  }
  return level
}

/** An index entry that moved up between two pages: its record, and the page of smaller entries before it. */
interface Separator {
  payload: Buffer
  child: number
}

/** Writes an index cell for a payload in `scratch` into `builder` (which must have room); overflow pages as needed. */
function addIndexCell(pages: Pages, builder: PageBuilder, payload: Uint8Array, child: number | undefined): void {
  const [page, at] = builder.add(indexCellBytes(payload.length, child !== undefined))
  let start = at
  if (child !== undefined) {
    page.writeUInt32BE(child, at)
    start += 4
  }
  start = writeVarint(page, start, payload.length)
  const local = localBytes(payload.length, indexMost)
  page.set(payload.subarray(0, local), start)
  if (local < payload.length) page.writeUInt32BE(overflow(pages, payload, local), start + local)
}

function indexCellBytes(payload: number, interior: boolean): number {
  const local = localBytes(payload, indexMost)
  return (interior ? 4 : 0) + varintLength(payload) + local + (local < payload ? 4 : 0)
}

/**
 * An index's b-tree from `count` sorted entries, each encoded by `entry` into `scratch`. In an index b-tree every
 * entry is stored once: two neighbouring pages are separated by an entry that moves up into their parent. Returns
 * the root page.
 */
function writeIndex(pages: Pages, scratch: Scratch, count: number, entry: (index: number) => number): number {
  const leaf = new PageBuilder(false)
  let up: Separator[] = []
  for (let index = 0; index < count; index++) {
    const length = entry(index)
    if (!leaf.fits(indexCellBytes(length, false))) {
      if (index < count - 1) {
        // This entry separates the full page from the next one.
        up.push({payload: Buffer.from(scratch.bytes.subarray(0, length)), child: leaf.emit(pages, indexLeaf)})
        continue
      }
      // The last entry must not be a separator with no page after it: the page's last entry moves up instead.
      const payload = leaf.pop()
      up.push({payload: payload.subarray(localPrefix(payload)), child: leaf.emit(pages, indexLeaf)})
    }
    addIndexCell(pages, leaf, scratch.bytes.subarray(0, length), undefined)
  }
  let last = leaf.emit(pages, indexLeaf)
  // Interior levels until one page holds them all.
  while (up.length > 0) [up, last] = indexInteriorLevel(pages, up, last)
  return last
}

/** Where the payload starts in a leaf cell of ours (after its size varint; index payloads here never spill). */
function localPrefix(cell: Buffer): number {
  let at = 0
  while ((cell[at] as number) & 0x80) at++
  return at + 1
}

/**
 * Packs separators into interior pages, in order: each page points right to the child of the separator that moves
 * up after it, the last one to `rightmost`. Returns the separators for the level above and the level's last page.
 */
function indexInteriorLevel(pages: Pages, level: readonly Separator[], rightmost: number): [Separator[], number] {
  const builder = new PageBuilder(true)
  const up: Separator[] = []
  for (let index = 0; index < level.length; index++) {
    const item = level[index] as Separator
    if (!builder.fits(indexCellBytes(item.payload.length, true))) {
      // The same rule as for leaves: the last separator never moves up alone.
      const moving = index < level.length - 1 ? item : (level[--index] as Separator)
      if (moving !== item) builder.pop()
      up.push({payload: moving.payload, child: builder.emit(pages, indexInterior, moving.child)})
      continue
    }
    addIndexCell(pages, builder, item.payload, item.child)
  }
  return [up, builder.emit(pages, indexInterior, rightmost)]
}

/**
 * The order of an index's entries (`flat`: `width` numbers each, the key columns then the rowid). Rows come in rowid
 * order, so entries that tie on their key are in order already, and a stable sort on the key columns alone suffices.
 * Keys that already ascend (Anki's `usn` and `nid` indexes: one value, or the rowid's own order) are not sorted.
 */
function sortedEntries(flat: readonly number[], width: number): Uint32Array {
  const count = flat.length / width
  const order = Uint32Array.from({length: count}, (_, entry) => entry)
  const compare = (a: number, b: number): number => {
    for (let column = 0; column < width - 1; column++) {
      const difference = (flat[a * width + column] as number) - (flat[b * width + column] as number)
      if (difference !== 0) return difference
    }
    return 0
  }
  let ascending = true
  for (let entry = 1; entry < count && ascending; entry++) ascending = compare(entry - 1, entry) <= 0
  // `TypedArray.prototype.sort` is stable (ES2019), so ties keep the rowid order.
  return ascending ? order : order.sort(compare)
}

/** Rows written between two looks at `stopping`: well under a millisecond. */
const stopEvery = 32

const never = (): boolean => false

/**
 * Writes the database holding `tables` (created in this order, their indexes after all tables, as a script of CREATE
 * TABLE then CREATE INDEX statements would) to `sink`; returns the file's length. `stopping` is asked before every
 * 32nd row of a table and after each table; a true answer ends the writing early with undefined.
 */
export function writeDatabase(tables: readonly TableSpec[], sink: BlockSink, stopping: () => boolean = never): number | undefined {
  const pages = new Pages(sink)
  pages.allocate()
  const scratch = new Scratch()
  const schema: Value[][] = []
  const indexRows: Value[][] = []
  for (const table of tables) {
    const indexes = table.indexes ?? []
    // Each index's keys, flat: its columns then the rowid, row after row (numbers, not an object per entry).
    const keys = indexes.map(() => [] as number[])
    const root = writeTable(pages, scratch, table.rows, stopping, (values, rowid) => {
      indexes.forEach((index, at) => {
        const flat = keys[at] as number[]
        for (const column of index.columns) {
          const value = values[column]
          // The index sorts its keys as numbers: anything else (NULL, text, a bigint) would be stored out of order.
          if (!Number.isSafeInteger(value)) throw new Error(`The index ${index.name} holds integers only, got ${String(value)} in row ${rowid}`)
          flat.push(value as number)
        }
        flat.push(rowid)
      })
    })
    if (root === undefined || stopping()) return undefined
    schema.push(['table', table.name, table.name, root, table.sql])
    indexes.forEach((index, at) => {
      const width = index.columns.length + 1
      const flat = keys[at] as number[]
      const order = sortedEntries(flat, width)
      const values: number[] = new Array(width)
      const entry = (index: number): number => {
        const start = (order[index] as number) * width
        for (let column = 0; column < width; column++) values[column] = flat[start + column] as number
        return encodeRecordInto(scratch, values)
      }
      indexRows.push(['index', index.name, table.name, writeIndex(pages, scratch, order.length, entry), index.sql])
    })
  }
  schema.push(...indexRows)
  // Page 1: the 100-byte header, then the schema table's only page.
  const first = pages.firstPage()
  const cells = schema.map((row, index) => {
    const record = encodeRecord(row)
    const cell = Buffer.alloc(varintLength(record.length) + varintLength(index + 1) + record.length)
    record.copy(cell, writeVarint(cell, writeVarint(cell, 0, record.length), index + 1))
    return cell
  })
  if (108 + cells.reduce((sum, cell) => sum + cell.length + 2, 0) > pageSize) throw new Error('The schema does not fit on the first page')
  let content = pageSize
  cells.forEach((cell, index) => {
    content -= cell.length
    cell.copy(first, content)
    first.writeUInt16BE(content, 108 + index * 2)
  })
  first[100] = tableLeaf
  first.writeUInt16BE(cells.length, 103)
  first.writeUInt16BE(content, 105)
  writeHeader(first, pages.count, schema.length)
  return pages.finish()
}

/** The file header (https://www.sqlite.org/fileformat2.html#the_database_header). */
function writeHeader(page: Buffer, pageCount: number, schemaChanges: number): void {
  page.write('SQLite format 3\0', 0, 'latin1')
  page.writeUInt16BE(pageSize, 16)
  page[18] = 1 // rollback journal (not WAL), to write
  page[19] = 1 // and to read
  page[20] = 0 // no reserved bytes at the end of pages
  page[21] = 64 // payload fractions, fixed by the format
  page[22] = 32
  page[23] = 32
  page.writeUInt32BE(1, 24) // file change counter
  page.writeUInt32BE(pageCount, 28) // size in pages (valid: the counter at 92 matches 24)
  page.writeUInt32BE(schemaChanges, 40) // schema cookie: one change per CREATE, as a script would leave it
  page.writeUInt32BE(4, 44) // schema format 4: the current one (0 and 1 as serial types 8 and 9)
  page.writeUInt32BE(1, 56) // UTF-8
  page.writeUInt32BE(1, 92) // the change counter this header's size is valid for
  page.writeUInt32BE(3046001, 96) // the SQLite version that wrote the file, as sql.js's would read
}
