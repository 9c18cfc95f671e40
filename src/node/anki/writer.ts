import {randomBytes} from 'node:crypto'
import {closeSync, mkdirSync, openSync, readdirSync, rmSync, statSync, writeSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {stripHtml} from './html.js'
import {fieldChecksum, idFromName} from './ids.js'
import {fieldNames, notetypeId, notetypeJson, sortFieldIndex} from './notetype.js'
import {processRuns} from '../process-runs.js'
import {blockBytes, writeDatabase, type BlockSink} from '../sqlite/bulk-file.js'
import {encodeRecord, encodeRecordInto, integerAffinity, type Scratch, type Value} from '../sqlite/record.js'
import {writeZip, type FileBytes, type ZipInput} from './zip-writer.js'

/**
 * The `.apkg` writer: a schema-11 `collection.anki2` (SQLite, written in one pass) in a
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

/**
 * A note whose record was encoded before (`noteRecord`, by an earlier build), read back by `PackageInput.record` as
 * its row is written: the record is the notes table's row but for its id, which only the note's place in the package
 * decides. The deck, time and checksum are what the rest of the file needs.
 */
export interface EncodedNote {
  deck: string
  mod: number
  checksum: number
}

export interface MediaFile {
  /** File name in the collection's media folder (a bare name, as fields reference it). */
  name: string
  data: Uint8Array
}

export interface PackageInput {
  /** In document order: new cards are introduced in this order. */
  notes: ReadonlyArray<DeckNote | EncodedNote>
  media: readonly MediaFile[]
  /** The record of an encoded note; the bytes need to last only until the next call. */
  record?: (note: EncodedNote) => Uint8Array
}

/** Formats that are compressed already: stored, not deflated again. */
const storedTypes = /\.(?:png|jpe?g|gif|webp|avif|heic|mp3|m4a|ogg|opus|mp4|webm|woff2?|zip|gz)$/i

/** Anki's schema-11 tables, as Anki 2.1's `schema11.sql` declares them (and genanki writes them). */
const tables = {
  col: 'CREATE TABLE col (id integer primary key, crt integer not null, mod integer not null, scm integer not null, ver integer not null, dty integer not null, usn integer not null, ls integer not null, conf text not null, models text not null, decks text not null, dconf text not null, tags text not null)',
  notes: 'CREATE TABLE notes (id integer primary key, guid text not null, mid integer not null, mod integer not null, usn integer not null, tags text not null, flds text not null, sfld integer not null, csum integer not null, flags integer not null, data text not null)',
  cards: 'CREATE TABLE cards (id integer primary key, nid integer not null, did integer not null, ord integer not null, mod integer not null, usn integer not null, type integer not null, queue integer not null, due integer not null, ivl integer not null, factor integer not null, reps integer not null, lapses integer not null, left integer not null, odue integer not null, odid integer not null, flags integer not null, data text not null)',
  revlog: 'CREATE TABLE revlog (id integer primary key, cid integer not null, usn integer not null, ease integer not null, ivl integer not null, lastIvl integer not null, factor integer not null, time integer not null, type integer not null)',
  graves: 'CREATE TABLE graves (usn integer not null, oid integer not null, type integer not null)'
}

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
 * by id, the Default deck first, as UTF-8. Written as bytes rather than through objects and `JSON.stringify`: a corpus
 * with a deck per section has tens of thousands (55,084 decks, 15 MB, for the 10,000-file bench corpus); stringifying
 * an object with that many integer keys took ~150 ms, and joining one string per deck held ~45 MB of them at the
 * deck step's peak. Ids ascend, as they do in `JSON.stringify`'s output (integer keys first, in numeric order; deck
 * ids are below 2^31).
 */
export function decksJson(decks: ReadonlyMap<string, number>, mod: number): Buffer {
  const entries: Array<[number, string, number]> = [[1, 'Default', 0]]
  for (const [name, id] of decks) entries.push([id, name, mod])
  entries.sort((a, b) => a[0] - b[0])
  const entry = ([id, name, time]: [number, string, number], index: number): string =>
    (index === 0 ? '{' : ',') +
    `"${id}":{"collapsed":false,"browserCollapsed":false,"conf":1,"desc":"","dyn":0,"extendNew":0,"extendRev":0,"id":${id},` +
    `"lrnToday":[0,0],"mod":${time},"name":${JSON.stringify(name)},"newToday":[0,0],"revToday":[0,0],"timeToday":[0,0],"usn":-1}` +
    (index === entries.length - 1 ? '}' : '')
  // One buffer large enough whatever the names hold (UTF-8 takes at most 3 bytes for a UTF-16 unit), each deck's
  // text written into it as it is made: no deck's text outlives its line here.
  let most = 0
  for (const [id, name] of entries) most += 280 + String(id).length * 2 + 3 * name.length * 2
  let out = Buffer.allocUnsafe(most)
  let at = 0
  entries.forEach((item, index) => {
    const text = entry(item, index)
    const bytes = Buffer.byteLength(text)
    // Never taken (the bound holds): a guard, since `write` would cut the text short without a word.
    if (at + bytes > out.length) out = Buffer.concat([out.subarray(0, at), Buffer.alloc(bytes + out.length)])
    at += out.write(text, at)
  })
  return out.subarray(0, at)
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

/**
 * The package's `.apkg` bytes; undefined when `stopping` said so first (a newer edit in `tagpress dev`). The collection
 * goes to a file in `tempDir` as it is written, and from there into the zip a few mebibytes at a time: the deck's
 * memory is its notes and the zip, not the collection too.
 */
export async function writeApkg(input: PackageInput): Promise<Uint8Array>
export async function writeApkg(input: PackageInput, stopping: () => boolean, tempDir?: string): Promise<Uint8Array | undefined>
export async function writeApkg(input: PackageInput, stopping?: () => boolean, tempDir?: string): Promise<Uint8Array | undefined> {
  const parts: Uint8Array[] = []
  const length = await writeApkgTo(input, (part) => parts.push(part), stopping, tempDir)
  return length === undefined ? undefined : Buffer.concat(parts)
}

/** `writeApkg`, its bytes given to `sink` part by part, in order (never joined); returns their length. */
export async function writeApkgTo(input: PackageInput, sink: (part: Uint8Array) => void, stopping: () => boolean = never, tempDir: string = tmpdir()): Promise<number | undefined> {
  mkdirSync(tempDir, {recursive: true})
  // Never an existing file (`wx+`): two builds in two containers share a `.tagpress/` and may both run as pid 1.
  const file = path.join(tempDir, `collection-${process.pid}-${randomBytes(8).toString('hex')}.anki2`)
  const fd = openSync(file, 'wx+')
  try {
    const length = writeCollection(input, (index, block) => writeAll(fd, block, index * blockBytes), stopping)
    if (length === undefined || stopping()) return undefined
    return await zipPackage({fd, length}, input.media, sink)
  } finally {
    closeSync(fd)
    rmSync(file, {force: true})
  }
}

const tempName = /^collection-(\d+)-[0-9a-f]+\.anki2$/
/** A collection file this old is left from a killed build whatever its pid says (a deck takes seconds to write). */
const staleAfterMs = 60 * 60 * 1000

/**
 * Removes collection files left in `tempDir` by a build that was killed mid-deck (its `finally` never ran): its
 * process no longer runs, or the file is over an hour old (in a container every build may be pid 1). A running
 * process's fresh files are left alone: a `tagpress dev` and a build may share the folder.
 */
export function removeStaleCollections(tempDir: string): void {
  let names: string[]
  try {
    names = readdirSync(tempDir)
  } catch {
    return
  }
  for (const name of names) {
    const pid = Number(tempName.exec(name)?.[1] ?? NaN)
    if (!Number.isInteger(pid)) continue
    const file = path.join(tempDir, name)
    try {
      if ((pid !== process.pid && !processRuns(pid)) || Date.now() - statSync(file).mtimeMs > staleAfterMs) rmSync(file, {force: true})
    } catch {
      // Gone already, or not ours to remove: only ever tidying.
    }
  }
}


function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done, position + done)
}

const never = (): boolean => false

/**
 * Writes the schema-11 collection file to `sink` block by block (`sqlite/bulk-file.ts`); returns its length, or
 * undefined when `stopping` said so first. It is asked before every 32nd note, about a millisecond apart.
 */
function writeCollection(input: PackageInput, sink: BlockSink, stopping: () => boolean = never): number | undefined {
  const {notes} = input
  const record = input.record ?? ((): never => {
    throw new Error('A note without fields needs its record')
  })
  // The newest note's time is the package's time: note and card ids count up from it (in ms, as Anki's are),
  // so new cards show when their source last changed, and no id lies in the future.
  const time = notes.reduce((max, note) => Math.max(max, note.mod), 0) || 1
  const decks = deckIds(notes.map((note) => note.deck))
  const firstDeck = notes.length > 0 ? (decks.get(notes[0]!.deck) as number) : 1
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
  const base = time * 1000
  const col: Value[] = [
    null,
    time,
    time * 1000,
    time * 1000,
    11,
    0,
    0,
    0,
    JSON.stringify(conf),
    JSON.stringify({[String(notetypeId)]: notetypeJson(topDeck)}),
    decksJson(decks, time),
    JSON.stringify(defaultDeckConfig),
    '{}'
  ]
  function* noteRows(): Generator<[number, Value[], Uint8Array?]> {
    for (let index = 0; index < notes.length; index++) {
      const note = notes[index] as DeckNote | EncodedNote
      if ('fields' in note) yield [base + index, noteValues(note)]
      // The indexes read `usn` (always -1) and `csum`: an encoded note's row needs no other value.
      else yield [base + index, [null, null, null, null, -1, null, null, null, note.checksum], record(note)]
    }
  }
  function* cardRows(): Generator<[number, Value[]]> {
    for (let index = 0; index < notes.length; index++) {
      const note = notes[index] as DeckNote | EncodedNote
      // `due` of a new card is its position: Anki introduces the cards in document order.
      const id = base + index
      yield [id, [null, id, decks.get(note.deck) as number, 0, note.mod, -1, 0, 0, index + 1, 0, 0, 0, 0, 0, 0, 0, 0, '']]
    }
  }
  return writeDatabase(
    [
      {name: 'col', sql: tables.col, rows: [[1, col]]},
      {
        name: 'notes',
        sql: tables.notes,
        rows: noteRows(),
        indexes: [
          {name: 'ix_notes_usn', sql: 'CREATE INDEX ix_notes_usn on notes (usn)', columns: [4]},
          {name: 'ix_notes_csum', sql: 'CREATE INDEX ix_notes_csum on notes (csum)', columns: [8]}
        ]
      },
      {
        name: 'cards',
        sql: tables.cards,
        rows: cardRows(),
        indexes: [
          {name: 'ix_cards_usn', sql: 'CREATE INDEX ix_cards_usn on cards (usn)', columns: [5]},
          {name: 'ix_cards_nid', sql: 'CREATE INDEX ix_cards_nid on cards (nid)', columns: [1]},
          {name: 'ix_cards_sched', sql: 'CREATE INDEX ix_cards_sched on cards (did, queue, due)', columns: [2, 7, 8]}
        ]
      },
      {
        name: 'revlog',
        sql: tables.revlog,
        rows: [],
        indexes: [
          {name: 'ix_revlog_usn', sql: 'CREATE INDEX ix_revlog_usn on revlog (usn)', columns: [2]},
          {name: 'ix_revlog_cid', sql: 'CREATE INDEX ix_revlog_cid on revlog (cid)', columns: [1]}
        ]
      },
      {name: 'graves', sql: tables.graves, rows: []}
    ],
    sink,
    stopping
  )
}

/** A note's row in the notes table, but for its id (the INTEGER PRIMARY KEY, stored as null). */
function noteValues(note: DeckNote): Value[] {
  if (note.fields.length !== fieldNames.length) throw new Error('A note needs ' + fieldNames.length + ' fields, got ' + note.fields.length)
  const sortField = stripHtml(note.fields[sortFieldIndex] ?? '')
  const checksum = note.checksum ?? fieldChecksum(stripHtml(note.fields[0] ?? ''))
  const tags = note.tags.length > 0 ? ' ' + note.tags.join(' ') + ' ' : ''
  // `sfld` is declared integer: SQLite stores a sort field that reads as a number as that number, and so does this.
  return [null, note.guid, notetypeId, note.mod, -1, tags, note.fields.join('\x1f'), integerAffinity(sortField), checksum, 0, '']
}

/** A note's record as the notes table stores it: written once, then kept (`EncodedNote`) while its source is unchanged. */
export function noteRecord(note: DeckNote): Buffer {
  return encodeRecord(noteValues(note))
}

/** `noteRecord` into `scratch` (its first bytes, until the next use): returns the record's length. */
export function noteRecordInto(scratch: Scratch, note: DeckNote): number {
  return encodeRecordInto(scratch, noteValues(note))
}

/** The zip: `collection.anki2`, the `media` map (`{"0": "name"}`) and the media files named by number. */
function zipPackage(collection: Uint8Array | FileBytes, media: readonly MediaFile[], sink: (part: Uint8Array) => void): Promise<number> {
  const map: Record<string, string> = {}
  const entries: ZipInput[] = [{name: 'collection.anki2', data: collection}]
  media.forEach((file, index) => {
    map[String(index)] = file.name
    entries.push({name: String(index), data: file.data, store: storedTypes.test(file.name)})
  })
  entries.push({name: 'media', data: Buffer.from(JSON.stringify(map))})
  return writeZip(entries, sink)
}
