import {hash} from 'node:crypto'

/**
 * Identities of notes, note types and decks. Everything here is a pure
 * function of names and text: never of time, position or chance, so the same
 * sources give the same deck and a re-import finds the notes it made before.
 */

/** Anki's base91 alphabet (rslib `notes/mod.rs` `anki_base91`, genanki `util.py` `BASE91_TABLE`). */
const base91 = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~'

/**
 * genanki's `guid_for(*values)`: the values joined by `__`, SHA-256, the first
 * 8 bytes as a big-endian u64, written in Anki's base91. A deck made by genanki
 * from the same values gets the same GUIDs.
 */
export function guidFor(...values: Array<string | number>): string {
  // Hashes here run once per note or deck (tens of thousands a build): the one-shot hash costs half a Hash object's.
  const digest = hash('sha256', values.map(String).join('__'), 'buffer')
  let value = digest.readBigUInt64BE(0)
  let out = ''
  while (value > 0n) {
    out = base91[Number(value % 91n)] + out
    value /= 91n
  }
  return out
}

/** Anki's `field_checksum`: the first 4 bytes of the SHA-1 of the stripped text, as a big-endian u32. */
export function fieldChecksum(text: string): number {
  return hash('sha1', text, 'buffer').readUInt32BE(0)
}

/**
 * A stable id in `[2^30, 2^31)` from a name, the range genanki recommends for
 * note type and deck ids (small, positive, never 1, the Default deck).
 */
export function idFromName(name: string): number {
  const value = hash('sha256', name, 'buffer').readUInt32BE(0)
  return 2 ** 30 + (value % 2 ** 30)
}

/** A stable 48-bit id (for field and template ids, which Anki ≥ 2.1.67 stores as i64). */
export function wideIdFromName(name: string): number {
  const digest = hash('sha256', name, 'buffer')
  return digest.readUIntBE(0, 6) || 1
}
