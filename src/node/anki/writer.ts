import {stripHtml} from './html.js'
import {fieldChecksum, idFromName} from './ids.js'
import {fieldNames, notetypeId, notetypeJson, sortFieldIndex} from './notetype.js'
import {sqlite} from './sqlite.js'
import type {Database, SqlJsStatic, SqlValue, Statement} from 'sql.js'
import {writeZip, type ZipInput} from './zip-writer.js'

/**
 * The `.apkg` writer: a schema-11 `collection.anki2` (SQLite, via sql.js) in a
 * zip with a `media` map and numbered media files, the "Legacy 1" package that
 * genanki writes and that every Anki since 2.1 (desktop, AnkiDroid,
 * AnkiMobile) imports. Byte-identical for the same input: every id and time
 * comes from the notes, the zip entries carry a fixed time (`zip-writer.ts`).
 */

/** One note of the package, ready to write. */
export interface DeckNote {
  guid: string
  /** HTML of the five fields, in `fieldNames` order. */
  fields: readonly string[]
  tags: readonly string[]
  /** Full deck name, `::`-separated. */
  deck: string
  /** When the note last changed, in seconds (Anki updates a note only from a strictly newer one). */
  mod: number
  /** Anki's checksum of the first field, when known already (the plan keeps it); else computed here. */
  checksum?: number
}

export interface MediaFile {
  /** File name in the collection's media folder (a bare name, as fields reference it). */
  name: string
  data: Uint8Array
}

export interface PackageInput {
  /** In document order: new cards are introduced in this order. */
  notes: readonly DeckNote[]
  media: readonly MediaFile[]
}

/** Formats that are compressed already: stored, not deflated again. */
const storedTypes = /\.(?:png|jpe?g|gif|webp|avif|heic|mp3|m4a|ogg|opus|mp4|webm|woff2?|zip|gz)$/i

const schema = `
CREATE TABLE col (id integer primary key, crt integer not null, mod integer not null, scm integer not null, ver integer not null, dty integer not null, usn integer not null, ls integer not null, conf text not null, models text not null, decks text not null, dconf text not null, tags text not null);
CREATE TABLE notes (id integer primary key, guid text not null, mid integer not null, mod integer not null, usn integer not null, tags text not null, flds text not null, sfld integer not null, csum integer not null, flags integer not null, data text not null);
CREATE TABLE cards (id integer primary key, nid integer not null, did integer not null, ord integer not null, mod integer not null, usn integer not null, type integer not null, queue integer not null, due integer not null, ivl integer not null, factor integer not null, reps integer not null, lapses integer not null, left integer not null, odue integer not null, odid integer not null, flags integer not null, data text not null);
CREATE TABLE revlog (id integer primary key, cid integer not null, usn integer not null, ease integer not null, ivl integer not null, lastIvl integer not null, factor integer not null, time integer not null, type integer not null);
CREATE TABLE graves (usn integer not null, oid integer not null, type integer not null);
`

/** Anki's indexes, made after the rows are in: one sort per index instead of a B-tree update per row. */
const indexes = `
CREATE INDEX ix_notes_usn on notes (usn);
CREATE INDEX ix_cards_usn on cards (usn);
CREATE INDEX ix_revlog_usn on revlog (usn);
CREATE INDEX ix_cards_nid on cards (nid);
CREATE INDEX ix_cards_sched on cards (did, queue, due);
CREATE INDEX ix_revlog_cid on revlog (cid);
CREATE INDEX ix_notes_csum on notes (csum);
`

/** genanki's default deck options (`apkg_col.py`); Anki ignores them on import unless asked to take presets. */
const defaultDeckConfig = {
  '1': {
    autoplay: true,
    id: 1,
    lapse: {delays: [10], leechAction: 0, leechFails: 8, minInt: 1, mult: 0},
    maxTaken: 60,
    mod: 0,
    name: 'Default',
    new: {bury: true, delays: [1, 10], initialFactor: 2500, ints: [1, 4, 7], order: 1, perDay: 20, separate: true},
    replayq: true,
    rev: {bury: true, ease4: 1.3, fuzz: 0.05, ivlFct: 1, maxIvl: 36500, minSpace: 1, perDay: 100},
    timer: 0,
    usn: 0
  }
}

/**
 * The collection's `decks` column: every deck's schema-11 JSON (rslib `NormalDeckSchema11`, the fields genanki writes)
 * by id, the Default deck first. Written as text rather than through objects and `JSON.stringify`: a corpus with a
 * deck per section has tens of thousands (55,084 decks, 15 MB, for the 10,000-file bench corpus), and stringifying an
 * object with that many integer keys took ~150 ms. Ids ascend, as they do in `JSON.stringify`'s output (integer keys
 * first, in numeric order; deck ids are below 2^31).
 */
export function decksJson(decks: ReadonlyMap<string, number>, mod: number): string {
  const entries: Array<[number, string, number]> = [[1, 'Default', 0]]
  for (const [name, id] of decks) entries.push([id, name, mod])
  entries.sort((a, b) => a[0] - b[0])
  const parts: string[] = []
  for (const [id, name, time] of entries) {
    parts.push(
      `"${id}":{"collapsed":false,"browserCollapsed":false,"conf":1,"desc":"","dyn":0,"extendNew":0,"extendRev":0,"id":${id},` +
        `"lrnToday":[0,0],"mod":${time},"name":${JSON.stringify(name)},"newToday":[0,0],"revToday":[0,0],"timeToday":[0,0],"usn":-1}`
    )
  }
  return '{' + parts.join(',') + '}'
}

/** Every deck the notes use, with its parents, each with a stable id from its name. */
export function deckIds(names: Iterable<string>): Map<string, number> {
  const all = new Set<string>()
  // Many notes share a deck: split each distinct name once.
  for (const name of new Set(names)) {
    // Each parent is the name up to one of its `::` separators.
    for (let at = name.indexOf('::'); at !== -1; at = name.indexOf('::', at + 2)) all.add(name.slice(0, at))
    all.add(name)
  }
  const ids = new Map<string, number>()
  const used = new Set<number>([1])
  // Sorted, so that the rare collision of two hashes is settled the same way every time.
  for (const name of [...all].sort()) {
    let id = idFromName('tagpress/deck/' + name)
    while (used.has(id)) id++
    used.add(id)
    ids.set(name, id)
  }
  return ids
}

/** The package's `.apkg` bytes; undefined when `stopping` said so first (a newer edit in `tagpress dev`). */
export async function writeApkg(input: PackageInput): Promise<Uint8Array>
export async function writeApkg(input: PackageInput, stopping: () => boolean): Promise<Uint8Array | undefined>
export async function writeApkg(input: PackageInput, stopping?: () => boolean): Promise<Uint8Array | undefined> {
  const collection = await writeCollection(input, stopping ?? never)
  if (!collection || stopping?.()) return undefined
  return zipPackage(collection, input.media)
}

const never = (): boolean => false

/** Notes inserted between two looks at `stopping`: about a millisecond of sql.js. */
const stopEvery = 32

/** The schema-11 collection file; undefined when `stopping` said so first. */
export async function writeCollection(input: PackageInput): Promise<Uint8Array>
export async function writeCollection(input: PackageInput, stopping: () => boolean): Promise<Uint8Array | undefined>
export async function writeCollection(input: PackageInput, stopping: () => boolean = never): Promise<Uint8Array | undefined> {
  const {notes} = input
  // The newest note's time is the package's time: note and card ids count up from it (in ms, as Anki's are),
  // so new cards show when their source last changed, and no id lies in the future.
  const time = notes.reduce((max, note) => Math.max(max, note.mod), 0) || 1
  const decks = deckIds(notes.map((note) => note.deck))
  const firstDeck = notes.length > 0 ? (decks.get(notes[0]!.deck) as number) : 1

  const SQL = await sqlite()
  const db = presized(SQL, expectedBytes(notes))
  try {
    const conf = {
      activeDecks: [firstDeck],
      addToCur: true,
      collapseTime: 1200,
      curDeck: firstDeck,
      curModel: String(notetypeId),
      dueCounts: true,
      estTimes: true,
      newBury: true,
      newSpread: 0,
      nextPos: notes.length + 1,
      sortBackwards: false,
      sortType: 'noteFld',
      timeLim: 0
    }
    const topDeck = notes.length > 0 ? (decks.get(notes[0]!.deck.split('::')[0] as string) as number) : 1
    // Text goes in as UTF-8 bytes cast to text: sql.js encodes bound strings in a JavaScript loop,
    // several times slower than Node's encoder for the megabytes of fields (and of deck JSON) a large deck holds.
    db.run('INSERT INTO col VALUES (1, ?, ?, ?, 11, 0, 0, 0, CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), \'{}\')', [
      time,
      time * 1000,
      time * 1000,
      utf8(JSON.stringify(conf)),
      utf8(JSON.stringify({[String(notetypeId)]: notetypeJson(topDeck)})),
      utf8(decksJson(decks, time)),
      utf8(JSON.stringify(defaultDeckConfig))
    ])
    // Rows go in several to a statement: each `run` crosses into WebAssembly and binds its values one call at a time,
    // and 16 rows a call halve the time of one (the same rows in the same order: the same file).
    const insertNotes = rowsStatement(db, 'notes', noteRow, rowsPerStatement)
    const insertCards = rowsStatement(db, 'cards', cardRow, rowsPerStatement)
    let noteValues: SqlValue[] = []
    let cardValues: SqlValue[] = []
    const flush = (notesStatement: Statement, cardsStatement: Statement): void => {
      notesStatement.run(noteValues)
      cardsStatement.run(cardValues)
      noteValues = []
      cardValues = []
    }
    db.exec('BEGIN')
    const base = time * 1000
    for (let index = 0; index < notes.length; index++) {
      if (index % stopEvery === 0 && stopping()) return undefined
      const note = notes[index] as DeckNote
      if (note.fields.length !== fieldNames.length) throw new Error('A note needs ' + fieldNames.length + ' fields, got ' + note.fields.length)
      const id = base + index
      const deck = decks.get(note.deck) as number
      const fields = note.fields as string[]
      noteValues.push(
        id,
        utf8(note.guid),
        notetypeId,
        note.mod,
        utf8(note.tags.length > 0 ? ' ' + note.tags.join(' ') + ' ' : ''),
        utf8(fields.join('\x1f')),
        utf8(stripHtml(fields[sortFieldIndex] ?? '')),
        note.checksum ?? fieldChecksum(stripHtml(fields[0] ?? ''))
      )
      // `due` of a new card is its position: Anki introduces the cards in document order.
      cardValues.push(id, id, deck, note.mod, index + 1)
      if ((index + 1) % rowsPerStatement === 0) flush(insertNotes, insertCards)
    }
    const left = notes.length % rowsPerStatement
    if (left > 0) flush(rowsStatement(db, 'notes', noteRow, left), rowsStatement(db, 'cards', cardRow, left))
    if (stopping()) return undefined
    db.exec(indexes)
    db.exec('COMMIT')
    return db.export()
  } finally {
    db.close()
  }
}

/**
 * A new collection with its tables, its file already about `bytes` long. sql.js keeps the database file in a
 * JavaScript array that it grows by an eighth whenever a page lands past its end, copying it whole: at 45,000 notes,
 * ~35 copies of up to 60 MB, about half the time of the inserts. A database opened from bytes starts with that
 * array, so this one opens the empty schema's bytes followed by zeros: SQLite takes the page count from the header,
 * writes its pages in place and cuts the file to them at commit, the same bytes as a file grown page by page (the
 * same statements run, so the header's counters agree). Without a rollback journal, which would otherwise save the
 * zeros of every page it overwrites first; a failed build throws the database away anyway.
 */
function presized(SQL: SqlJsStatic, bytes: number): Database {
  const head = emptyCollection(SQL)
  const file = new Uint8Array(Math.max(bytes, head.length))
  file.set(head)
  const db = new SQL.Database(file)
  db.exec('PRAGMA journal_mode = OFF')
  return db
}

/** The empty schema's bytes: the same for every package, made once (`anki.packages: "file"` writes thousands). */
let emptyBytes: Uint8Array | undefined

function emptyCollection(SQL: SqlJsStatic): Uint8Array {
  if (emptyBytes) return emptyBytes
  const empty = new SQL.Database()
  try {
    empty.exec(schema)
    emptyBytes = empty.export()
  } finally {
    empty.close()
  }
  return emptyBytes
}

/**
 * The collection's size, from above: each note's text (its fields, the sort field again, its tags) and ~640 bytes
 * for its ids, its card and their index entries, as measured on this writer's decks (45,082 notes of the 10,000-file
 * bench corpus: 24.5 MB of text in a 49.9 MB file). Too small only means sql.js grows the rest as before.
 */
function expectedBytes(notes: readonly DeckNote[]): number {
  let bytes = 0
  for (const note of notes) {
    for (const field of note.fields) bytes += Buffer.byteLength(field)
    bytes += Buffer.byteLength(note.fields[sortFieldIndex] ?? '') + 640
    for (const tag of note.tags) bytes += Buffer.byteLength(tag) + 1
  }
  return Math.ceil(bytes * 1.05) + 64 * 1024
}

/** One row of `notes` (8 values) and of `cards` (5 values); text as UTF-8 bytes cast to text (see above). */
const noteRow = "(?, CAST(? AS TEXT), ?, ?, -1, CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), ?, 0, '')"
const cardRow = "(?, ?, ?, 0, ?, -1, 0, 0, ?, 0, 0, 0, 0, 0, 0, 0, 0, '')"
const rowsPerStatement = 16

/** `INSERT INTO table VALUES row, row, …` for `count` rows (freed with the database). */
function rowsStatement(db: Database, table: string, row: string, count: number): Statement {
  return db.prepare('INSERT INTO ' + table + ' VALUES ' + Array(count).fill(row).join(', '))
}

function utf8(text: string): Uint8Array {
  return Buffer.from(text, 'utf8')
}

/** The zip: `collection.anki2`, the `media` map (`{"0": "name"}`) and the media files named by number. */
export function zipPackage(collection: Uint8Array, media: readonly MediaFile[]): Promise<Uint8Array> {
  const map: Record<string, string> = {}
  const entries: ZipInput[] = [{name: 'collection.anki2', data: collection}]
  media.forEach((file, index) => {
    map[String(index)] = file.name
    entries.push({name: String(index), data: file.data, store: storedTypes.test(file.name)})
  })
  entries.push({name: 'media', data: Buffer.from(JSON.stringify(map))})
  return writeZip(entries)
}
