import {closeSync, openSync, readFileSync, readSync} from 'node:fs'
import {crc32} from 'node:zlib'
import {AsideFile} from '../fs/atomic.js'
import type {PublishedFile} from '../outputs/types.js'
import {fieldNames} from './notetype.js'
import type {PlannedCard} from './plan.js'
import {noteRecordInto, type EncodedNote} from './writer.js'
import {Scratch} from '../sqlite/record.js'

/**
 * What a deck needs of a card once it is planned: where its note's record lies in the card cache (encoded once, while
 * its source is unchanged, and read back as the notes table is written), and what the deck's other tables, its media
 * and the build's messages read. A card of an unchanged source costs a few small values in memory, not its fields.
 */
export interface DeckCard extends EncodedNote {
  guid: string
  source: string
  line: number
  package: string
  media: ReadonlyArray<{name: string; sitePath: string}>
  slot: string
  /** The question as plain text, cut to 80 characters (for messages). */
  question: string
  /** Where its note's record lies in the cache file this build writes. */
  recordAt: number
  recordBytes: number
}

/** An entry's body, before its records: what its cards share, then each card. */
interface Heads {
  package: string
  mod: number
  decks: string[]
  /** `[guid, line, deck (index in decks), media, slot, question, checksum, record bytes]` */
  cards: Array<[string, number, number, DeckCard['media'] | 0, string, string, number, number]>
}

const noMedia: DeckCard['media'] = Object.freeze([])

/**
 * Each source's deck cards from the previous build, in `.tagpress/anki-cards.bin`, so that an edit plans and encodes
 * one file's cards instead of every file's (at 10,000 files, ~45,000 notes: every compiled detail read again, or
 * as JSON, ~90 MB of field strings in the heap). The note records stay in the file: the deck reads them back one
 * after another as it writes them (`RecordReader`). Only ever a shortcut: a missing, damaged or foreign file means
 * planning everything again.
 *
 * The file: a 4-byte length and the JSON of the settings the cards were made with; then per source a 4-byte length
 * and the JSON `[source, key, time]`, the body's CRC-32 and 4-byte length, and the body: a 4-byte length and the
 * JSON of its `Heads`, then its cards' note records one after another. Lengths are big-endian.
 */
export class CardCache {
  /** The file as read, until this build's is written: each source's entry is found by its range, checked and decoded when asked for. */
  private bytes: Buffer | undefined
  private readonly entries = new Map<string, {key: string; time: number; start: number; end: number}>()
  /** This build's file, written aside entry by entry as the cards are asked for, in that order. */
  private readonly out: AsideFile
  /** Its length so far. */
  private length = 0
  /** Old entries next to each other in both files, copied with one write. */
  private pending: {start: number; end: number} | undefined
  private readonly encoder = new EntryEncoder()

  constructor(
    private readonly file: string,
    private readonly settings: string
  ) {
    this.read()
    this.out = new AsideFile(file)
    try {
      this.write(withLength(Buffer.from(JSON.stringify(settings))))
    } catch (error) {
      this.out.abort()
      throw error
    }
  }

  /** The file's cards: from the cache when its compile and time are the same, else planned (and remembered). */
  cards(file: PublishedFile, plan: () => PlannedCard[]): DeckCard[] {
    const old = this.entries.get(file.source)
    if (old && this.bytes && old.key === file.key && old.time === file.time) {
      const cards = decode(this.bytes, file.source, old.start, old.end, this.length)
      if (cards) {
        if (this.pending && this.pending.end === old.start) this.pending.end = old.end
        else {
          this.flushPending()
          this.pending = {start: old.start, end: old.end}
        }
        this.length += old.end - old.start
        return cards
      }
    }
    const bytes = this.encoder.encode(file, plan())
    // Decoded from the new entry's bytes, as a cached one is: the cards are the same whichever way they came.
    const cards = decode(bytes, file.source, 0, bytes.length, this.length) as DeckCard[]
    this.flushPending()
    this.write(bytes)
    return cards
  }

  /** Put this build's file in place of the old one (which is let go of): the cards' records are read from it. */
  save(): void {
    try {
      this.flushPending()
    } catch (error) {
      this.abort()
      throw error
    }
    this.bytes = undefined
    this.out.commit()
  }

  /** Keep the old file (a newer edit stopped the deck). */
  abort(): void {
    this.bytes = undefined
    this.out.abort()
  }

  /** Reads the saved file's note records, in any order (in file order, one read a mebibyte). */
  reader(): RecordReader {
    return new RecordReader(this.file)
  }

  private read(): void {
    let bytes: Buffer
    try {
      bytes = readFileSync(this.file)
    } catch {
      return
    }
    try {
      let at = 0
      const chunk = (): [number, number] => {
        if (at + 4 > bytes.length) throw new Error('cut short')
        const start = at + 4
        at = start + bytes.readUInt32BE(at)
        if (at > bytes.length) throw new Error('cut short')
        return [start, at]
      }
      const [settingsStart, settingsEnd] = chunk()
      if (bytes.toString('utf8', settingsStart, settingsEnd) !== JSON.stringify(this.settings)) throw new Error('other settings')
      while (at < bytes.length) {
        const start = at
        const [headStart, headEnd] = chunk()
        const [source, key, time] = JSON.parse(bytes.toString('utf8', headStart, headEnd)) as [string, string, number]
        at += 4 // the body's CRC-32, before its length
        chunk()
        this.entries.set(source, {key, time, start, end: at})
      }
      this.bytes = bytes
    } catch {
      // Damaged, cut short or made with other settings: what was read before the fault is dropped too.
      this.entries.clear()
    }
  }

  private write(bytes: Buffer): void {
    this.out.write(bytes)
    this.length += bytes.length
  }

  private flushPending(): void {
    const pending = this.pending
    if (!pending) return
    this.pending = undefined
    this.out.write((this.bytes as Buffer).subarray(pending.start, pending.end))
  }
}

/** A source's cards from its entry in `bytes`; undefined when the entry is damaged (its CRC-32 differs, or it does not parse). */
function decode(bytes: Buffer, source: string, start: number, end: number, newStart: number): DeckCard[] | undefined {
  try {
    const crcAt = start + 4 + bytes.readUInt32BE(start)
    const bodyStart = crcAt + 8
    if (crc32(bytes.subarray(bodyStart, end)) !== bytes.readUInt32BE(crcAt)) return undefined
    const headsEnd = bodyStart + 4 + bytes.readUInt32BE(bodyStart)
    const heads = JSON.parse(bytes.toString('utf8', bodyStart + 4, headsEnd)) as Heads
    // Offsets in the new file, where the entry starts at `newStart`.
    let at = headsEnd - start
    const cards = heads.cards.map(([guid, line, deck, media, slot, question, checksum, recordBytes]): DeckCard => {
      const card: DeckCard = {
        guid, source, line, package: heads.package, deck: heads.decks[deck] as string, media: media === 0 ? noMedia : media, mod: heads.mod,
        slot, question, checksum, recordAt: newStart + at, recordBytes
      }
      at += recordBytes
      return card
    })
    return start + at === end ? cards : undefined
  } catch {
    return undefined
  }
}

/** Note records read back from the card cache: a mebibyte at a time, so that records in file order cost one read per mebibyte. */
export class RecordReader {
  private readonly fd: number
  private window = Buffer.allocUnsafe(1 << 20)
  private windowStart = 0
  private windowEnd = 0

  constructor(file: string) {
    this.fd = openSync(file, 'r')
  }

  /** The card's record: valid until the next call. */
  read(card: DeckCard): Uint8Array {
    const start = card.recordAt
    const end = start + card.recordBytes
    if (start < this.windowStart || end > this.windowEnd) {
      if (card.recordBytes > this.window.length) this.window = Buffer.allocUnsafe(card.recordBytes)
      const read = readSync(this.fd, this.window, 0, this.window.length, start)
      if (read < card.recordBytes) throw new Error('The card cache is shorter than its cards say (changed while the deck was written?)')
      this.windowStart = start
      this.windowEnd = start + read
    }
    return this.window.subarray(start - this.windowStart, end - this.windowStart)
  }

  close(): void {
    closeSync(this.fd)
  }
}

/**
 * Encodes entries into two buffers kept from file to file (the records, then the whole entry): a cold build encodes
 * ~45,000 records, and a buffer or two for each (freed only at a full collection) held ~55 MB at the deck's peak.
 */
class EntryEncoder {
  private readonly scratch = new Scratch()
  private records: Buffer = Buffer.allocUnsafe(1 << 16)
  private entry: Buffer = Buffer.allocUnsafe(1 << 16)

  /** The entry of a planned file: valid until the next call. */
  encode(file: PublishedFile, cards: readonly PlannedCard[]): Buffer {
    const decks: string[] = []
    const deckIndex = new Map<string, number>()
    let recordsLength = 0
    const heads: Heads = {
      package: cards[0]?.package ?? '',
      mod: cards[0]?.mod ?? 0,
      decks,
      cards: cards.map((card) => {
        let deck = deckIndex.get(card.deck)
        if (deck === undefined) {
          deck = decks.push(card.deck) - 1
          deckIndex.set(card.deck, deck)
        }
        const length = noteRecordInto(this.scratch, {guid: card.guid, fields: fieldNames.map((name) => card.fields[name]), tags: card.tags, deck: card.deck, mod: card.mod, checksum: card.checksum})
        this.records = room(this.records, recordsLength + length, recordsLength)
        this.scratch.bytes.copy(this.records, recordsLength, 0, length)
        recordsLength += length
        return [card.guid, card.line, deck, card.media.length > 0 ? card.media : 0, card.slot, card.question.slice(0, 80), card.checksum, length]
      })
    }
    // A file's cards share its package and time (`planFile`): kept once.
    if (cards.some((card) => card.package !== heads.package || card.mod !== heads.mod)) throw new Error('The cards of one file differ in package or time')
    const head = Buffer.from(JSON.stringify([file.source, file.key, file.time]))
    const headsJson = Buffer.from(JSON.stringify(heads))
    const bodyLength = 4 + headsJson.length + recordsLength
    const total = 4 + head.length + 8 + bodyLength
    this.entry = room(this.entry, total, 0)
    const entry = this.entry
    let at = entry.writeUInt32BE(head.length, 0)
    at += head.copy(entry, at)
    const crcAt = at
    at = entry.writeUInt32BE(bodyLength, at + 4)
    const bodyStart = at
    at = entry.writeUInt32BE(headsJson.length, at)
    at += headsJson.copy(entry, at)
    at += this.records.copy(entry, at, 0, recordsLength)
    entry.writeUInt32BE(crc32(entry.subarray(bodyStart, at)), crcAt)
    return entry.subarray(0, at)
  }
}

/** `buffer`, or a larger one holding its first `keep` bytes, with room for `length` bytes. */
function room(buffer: Buffer, length: number, keep: number): Buffer {
  if (buffer.length >= length) return buffer
  const larger = Buffer.allocUnsafe(Math.max(length, buffer.length * 2))
  buffer.copy(larger, 0, 0, keep)
  return larger
}

function withLength(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(bytes.length)
  return Buffer.concat([length, bytes])
}
