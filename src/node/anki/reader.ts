import {existsSync, statSync} from 'node:fs'
import zlib from 'node:zlib'
import type {Database} from 'sql.js'
import {UserError} from '../errors.js'
import {htmlToText} from './html.js'
import {sqlite} from './sqlite.js'
import {ZipError, ZipReader} from './zip.js'

/**
 * Read any `.apkg` (or `.colpkg`) back into records: ours, genanki's, and
 * Anki's own exports in the legacy formats (`collection.anki2`,
 * `collection.anki21`, schema 11) or the current one (`collection.anki21b`,
 * zstd-compressed schema 18, readable where Node.js has zstd). Fields are read
 * by the note type's field names, never by position.
 */

/** One note as a training record (`tagpress anki import`). */
export interface DeckRecord {
  instruction: string
  question: string
  answer_intro: string
  answer: string
  parent_ref: string
  deck: string
  tags: string[]
  guid: string
  notetype: string
  /** Every field by name, for note types other than tagpress's. */
  fields?: Record<string, string>
}

export interface ReadOptions {
  /** Fields as plain text instead of HTML. */
  text?: boolean
}

interface Notetype {
  name: string
  fields: string[]
}

type FieldKey = keyof Pick<DeckRecord, 'instruction' | 'question' | 'answer_intro' | 'answer' | 'parent_ref'>

/** Our five field names (compared without case, spaces, `_` or `-`) and the record keys they fill. */
const ownNames: Record<string, FieldKey> = {instruction: 'instruction', question: 'question', answerintro: 'answer_intro', answer: 'answer', parentref: 'parent_ref'}

/** What other note types call the same things (Basic: Front/Back; Cloze: Text). */
const aliases: Record<string, FieldKey> = {front: 'question', text: 'question', q: 'question', back: 'answer', a: 'answer'}

/** Why a file is not a deck we can read: one sentence, no stack trace. */
function unreadable(file: string, reason: string): UserError {
  return new UserError('Cannot read `' + file + '` as an Anki deck: ' + reason)
}

const zstdMagic = [0x28, 0xb5, 0x2f, 0xfd]

/** The package's collection database (the right one of the files a package may hold). */
async function openCollection(file: string): Promise<Database> {
  if (!existsSync(file)) throw new UserError('No such file: `' + file + '`')
  if (statSync(file).isDirectory()) throw new UserError('`' + file + '` is a folder, expected an .apkg file')
  let zip: ZipReader
  try {
    zip = new ZipReader(file)
  } catch (error) {
    if (error instanceof ZipError) throw unreadable(file, error.message + ' (an .apkg is a zip file)')
    throw error
  }
  let bytes: Uint8Array
  try {
    const format = packageFormat(zip)
    const name = format === 3 ? 'collection.anki21b' : format === 2 ? 'collection.anki21' : 'collection.anki2'
    if (!zip.entries.has(name)) {
      const found = [...zip.entries.keys()].slice(0, 5).map((entry) => '`' + entry + '`').join(', ')
      throw unreadable(file, 'it holds no Anki collection (collection.anki2, collection.anki21 or collection.anki21b)' + (found ? '; it holds ' + found : ', it is empty'))
    }
    bytes = zip.read(name)
    if (format === 3 || zstdMagic.every((byte, index) => bytes[index] === byte)) bytes = await unzstd(file, bytes)
  } catch (error) {
    if (error instanceof ZipError) throw unreadable(file, error.message)
    throw error
  } finally {
    zip.close()
  }
  const SQL = await sqlite()
  let db = new SQL.Database(bytes)
  try {
    let collated = false
    rows(db, "SELECT count(*) FROM sqlite_master WHERE sql LIKE '%COLLATE unicase%'", ([count]) => (collated = Number(count) > 0))
    if (collated) {
      // Schema 18 declares Anki's own `unicase` collation, which sql.js cannot register; a table
      // without rowid that uses it cannot even be scanned. Drop the declarations in this private copy
      // (names are only read, never compared, here) and reopen it.
      db.run('PRAGMA writable_schema=ON')
      db.run("UPDATE sqlite_master SET sql = replace(sql, 'COLLATE unicase', '') WHERE sql LIKE '%COLLATE unicase%'")
      db.run('PRAGMA writable_schema=OFF')
      const copy = db.export()
      db.close()
      db = new SQL.Database(copy)
    }
  } catch (error) {
    db.close()
    throw unreadable(file, 'its collection is not a readable SQLite database (' + (error as Error).message + ')')
  }
  return db
}

/** 1, 2 or 3 (Legacy1, Legacy2, Latest), as Anki chooses (rslib `package/meta.rs`): the `meta` entry, else the newest collection present. */
function packageFormat(zip: ZipReader): number {
  if (zip.entries.has('meta')) {
    const meta = zip.read('meta')
    // protobuf PackageMetadata { Version version = 1; }: tag 0x08, then a varint.
    if (meta[0] === 0x08 && meta.length > 1 && meta[1]! < 0x80) return meta[1]!
    // Legacy packages carry no meta; an unknown one is read by the entries present.
  }
  if (zip.entries.has('collection.anki21b')) return 3
  if (zip.entries.has('collection.anki21')) return 2
  return 1
}

/**
 * A zstd decoder: Node.js's own (22.15 and newer), else the `fzstd` package
 * when the project has it installed (a small pure-JS decoder; not a
 * dependency of tagpress).
 */
async function zstdDecoder(): Promise<((data: Uint8Array) => Uint8Array) | undefined> {
  const native = (zlib as unknown as {zstdDecompressSync?: (data: Uint8Array) => Buffer}).zstdDecompressSync
  if (native) return native
  const name = 'fzstd'
  const module = (await import(name).catch(() => undefined)) as {decompress?: (data: Uint8Array) => Uint8Array} | undefined
  return module?.decompress
}

async function unzstd(file: string, data: Uint8Array): Promise<Uint8Array> {
  const decompress = await zstdDecoder()
  if (!decompress) {
    throw unreadable(
      file,
      'it is in the format of Anki 2.1.50 and newer (collection.anki21b, compressed with zstd), and this Node.js ' + process.version +
        ' has no zstd decoder (Node.js 22.15 and newer have one); run tagpress on a newer Node.js, or export the deck again from Anki ' +
        'with "Support older Anki versions" ticked'
    )
  }
  try {
    return decompress(data)
  } catch (error) {
    throw unreadable(file, 'its collection.anki21b does not decompress (' + (error as Error).message + ')')
  }
}

function rows(db: Database, sql: string, each: (row: unknown[]) => void): void {
  const statement = db.prepare(sql)
  try {
    while (statement.step()) each(statement.get())
  } finally {
    statement.free()
  }
}

/** Note types and decks, from schema 18 tables or the schema 11 JSON in `col`. */
function catalog(db: Database, file: string): {notetypes: Map<number, Notetype>; decks: Map<number, string>} {
  const tables = new Set<string>()
  rows(db, "SELECT name FROM sqlite_master WHERE type = 'table'", ([name]) => tables.add(String(name)))
  const notetypes = new Map<number, Notetype>()
  const decks = new Map<number, string>()
  if (!tables.has('notes') || !tables.has('cards')) throw unreadable(file, 'its database is not an Anki collection (no notes or cards table)')
  if (tables.has('notetypes') && tables.has('fields')) {
    // Schema 18. Name columns use Anki's `unicase` collation, which sql.js lacks: no ORDER BY or WHERE on them.
    rows(db, 'SELECT id, name FROM notetypes', ([id, name]) => notetypes.set(Number(id), {name: String(name), fields: []}))
    const fields: Array<[number, number, string]> = []
    rows(db, 'SELECT ntid, ord, name FROM fields', ([ntid, ord, name]) => fields.push([Number(ntid), Number(ord), String(name)]))
    fields.sort((a, b) => a[0] - b[0] || a[1] - b[1])
    for (const [ntid, ord, name] of fields) {
      const notetype = notetypes.get(ntid)
      if (notetype) notetype.fields[ord] = name
    }
    rows(db, 'SELECT id, name FROM decks', ([id, name]) => decks.set(Number(id), String(name).split('\x1f').join('::')))
    return {notetypes, decks}
  }
  let models: Record<string, {name?: string; flds?: Array<{name: string; ord: number}>}> = {}
  let deckJson: Record<string, {name?: string}> = {}
  try {
    rows(db, 'SELECT models, decks FROM col', ([modelText, deckText]) => {
      models = JSON.parse(String(modelText)) as typeof models
      deckJson = JSON.parse(String(deckText)) as typeof deckJson
    })
  } catch {
    throw unreadable(file, 'its collection has no readable note types')
  }
  for (const [id, model] of Object.entries(models)) {
    const fields: string[] = []
    for (const field of model.flds ?? []) fields[field.ord] = field.name
    notetypes.set(Number(id), {name: String(model.name ?? id), fields})
  }
  for (const [id, deck] of Object.entries(deckJson)) decks.set(Number(id), String(deck.name ?? id))
  return {notetypes, decks}
}

/** Map one note's fields to a record by field name. */
export function recordOf(notetype: Notetype, values: string[], deck: string, tags: string[], guid: string, options: ReadOptions = {}): DeckRecord {
  const convert = options.text ? htmlToText : (value: string) => value
  const record: DeckRecord = {instruction: '', question: '', answer_intro: '', answer: '', parent_ref: '', deck, tags, guid, notetype: notetype.name}
  const normal = notetype.fields.map((name) => (name ?? '').toLowerCase().replace(/[\s_-]+/g, ''))
  const index = new Map<FieldKey, number>()
  normal.forEach((name, at) => {
    const key = ownNames[name]
    if (key && !index.has(key)) index.set(key, at)
  })
  const own = index.size === 5 && notetype.fields.length === 5
  normal.forEach((name, at) => {
    const key = aliases[name]
    if (key && !index.has(key) && ![...index.values()].includes(at)) index.set(key, at)
  })
  // A note type with none of these names: its first field is the question, its second the answer.
  const used = new Set(index.values())
  if (!index.has('question') && values.length > 0 && !used.has(0)) {
    index.set('question', 0)
    used.add(0)
  }
  if (!index.has('answer') && values.length > 1 && !used.has(1)) index.set('answer', 1)
  for (const [key, at] of index) record[key] = convert(values[at] ?? '')
  if (!own) record.fields = Object.fromEntries(notetype.fields.map((name, at) => [name ?? 'Field ' + (at + 1), convert(values[at] ?? '')]))
  return record
}

/** The records of a deck file, one per note, in the order the notes were added. */
export async function* readDeck(file: string, options: ReadOptions = {}): AsyncGenerator<DeckRecord> {
  const db = await openCollection(file)
  try {
    const {notetypes, decks} = catalog(db, file)
    // A note's deck is its first card's home deck (the original deck of a card in a filtered deck).
    const deckOf = new Map<number, number>()
    rows(db, 'SELECT nid, did, odid FROM cards ORDER BY nid, ord', ([nid, did, odid]) => {
      if (!deckOf.has(Number(nid))) deckOf.set(Number(nid), Number(odid) || Number(did))
    })
    const statement = db.prepare('SELECT id, guid, mid, tags, flds FROM notes ORDER BY id')
    try {
      while (statement.step()) {
        const [id, guid, mid, tags, flds] = statement.get()
        const notetype = notetypes.get(Number(mid)) ?? {name: String(mid), fields: []}
        const values = String(flds ?? '').split('\x1f')
        const fields = notetype.fields.length >= values.length ? notetype : {...notetype, fields: values.map((_, index) => notetype.fields[index] ?? 'Field ' + (index + 1))}
        const deckId = deckOf.get(Number(id))
        const deck = deckId === undefined ? '' : (decks.get(deckId) ?? '')
        const tagList = String(tags ?? '').split(/\s+/).filter((tag) => tag !== '')
        yield recordOf(fields, values, deck, tagList, String(guid), options)
      }
    } finally {
      statement.free()
    }
  } finally {
    db.close()
  }
}
