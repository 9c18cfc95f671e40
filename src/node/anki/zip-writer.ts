import {promisify} from 'node:util'
import zlib from 'node:zlib'

/**
 * The zip writer for `.apkg` files: deflate from Node's own zlib, in 1 MiB
 * slices compressed in parallel on the thread pool and joined into one
 * deflate stream (as pigz does), so a 50 MB collection costs a fraction of
 * a single-threaded deflate. Each slice starts from an empty window, which
 * costs well under 1% of the size. Byte-identical for the same input: the
 * slices, the level and the entry time are fixed.
 */

export interface ZipInput {
  name: string
  data: Uint8Array
  /** Keep as is (media that is compressed already). */
  store?: boolean
}

const deflateRaw = promisify(zlib.deflateRaw)
const sliceBytes = 1 << 20
const level = 6
/** 2000-01-01 12:00:00 as a DOS date and time: a fixed entry time, independent of the time zone. */
const dosTime = 12 << 11
const dosDate = ((2000 - 1980) << 9) | (1 << 5) | 1
const utf8Flag = 0x0800

/** Deflate `data` as one raw deflate stream made of independently compressed slices. */
export async function deflateSlices(data: Uint8Array): Promise<Buffer> {
  if (data.length <= sliceBytes) return deflateRaw(data, {level})
  const slices: Array<Promise<Buffer>> = []
  for (let start = 0; start < data.length; start += sliceBytes) {
    const slice = data.subarray(start, Math.min(start + sliceBytes, data.length))
    const last = start + sliceBytes >= data.length
    // A full flush ends every slice but the last on a byte boundary, without the final-block bit.
    slices.push(deflateRaw(slice, {level, finishFlush: last ? zlib.constants.Z_FINISH : zlib.constants.Z_FULL_FLUSH}))
  }
  return Buffer.concat(await Promise.all(slices))
}

/** A zip of the given entries, in order (no zip64: an `.apkg` over 4 GiB is refused). */
export async function writeZip(entries: readonly ZipInput[]): Promise<Buffer> {
  const compressed = await Promise.all(entries.map((entry) => (entry.store ? Buffer.from(entry.data.buffer, entry.data.byteOffset, entry.data.length) : deflateSlices(entry.data))))
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  entries.forEach((entry, index) => {
    const body = compressed[index] as Buffer
    const name = Buffer.from(entry.name, 'utf8')
    if (body.length >= 0xffffffff || entry.data.length >= 0xffffffff || offset >= 0xffffffff || entries.length >= 0xffff) {
      throw new Error('The deck is too large for a zip without zip64 (over 4 GiB or 65,535 files)')
    }
    // The local header and the central directory record share a run of fields, from "version needed" to
    // "name length"; the central record adds "version made by" before it and the entry's offset after.
    const fields = Buffer.alloc(24)
    fields.writeUInt16LE(20, 0)
    fields.writeUInt16LE(/^[\x20-\x7e]*$/.test(entry.name) ? 0 : utf8Flag, 2)
    fields.writeUInt16LE(entry.store ? 0 : 8, 4)
    fields.writeUInt16LE(dosTime, 6)
    fields.writeUInt16LE(dosDate, 8)
    fields.writeUInt32LE(zlib.crc32(entry.data), 10)
    fields.writeUInt32LE(body.length, 14)
    fields.writeUInt32LE(entry.data.length, 18)
    fields.writeUInt16LE(name.length, 22)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    fields.copy(local, 4)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE(20, 4)
    fields.copy(central, 6)
    central.writeUInt32LE(offset, 42)
    locals.push(local, name, body)
    centrals.push(central, name)
    offset += local.length + name.length + body.length
  })
  const directory = Buffer.concat(centrals)
  if (offset >= 0xffffffff) throw new Error('The deck is too large for a zip without zip64 (over 4 GiB)')
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(entries.length, 8)
  end.writeUInt16LE(entries.length, 10)
  end.writeUInt32LE(directory.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, directory, end])
}
