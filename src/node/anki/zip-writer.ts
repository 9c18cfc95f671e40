import {readSync} from 'node:fs'
import {promisify} from 'node:util'
import zlib from 'node:zlib'

/**
 * The zip writer for `.apkg` files: deflate from Node's own zlib, in 1 MiB
 * slices compressed in parallel on the thread pool and joined into one
 * deflate stream (as pigz does), so a 50 MB collection costs a fraction of
 * a single-threaded deflate. Each slice starts from an empty window, which
 * costs well under 1% of the size. Byte-identical for the same input: the
 * slices, the level and the entry time are fixed. An entry can be read from
 * a file a few slices at a time, so a large collection is never held whole.
 */

export interface ZipInput {
  name: string
  /** The bytes, or an open file's first `length` bytes. */
  data: Uint8Array | FileBytes
  /** Keep as is (media that is compressed already). */
  store?: boolean
}

export interface FileBytes {
  fd: number
  length: number
}

const deflateRaw = promisify(zlib.deflateRaw)
const sliceBytes = 1 << 20
/** Slices read and compressing at once: the thread pool's four threads kept busy, four mebibytes held. */
const inFlight = 4
const level = 6
/** 2000-01-01 12:00:00 as a DOS date and time: a fixed entry time, independent of the time zone. */
const dosTime = 12 << 11
const dosDate = ((2000 - 1980) << 9) | (1 << 5) | 1
const utf8Flag = 0x0800

/** Deflate `data` as one raw deflate stream made of independently compressed slices. */
export async function deflateSlices(data: Uint8Array): Promise<Buffer> {
  return Buffer.concat((await compress(data)).parts)
}

/** An entry's bytes as written: its parts in order (never joined: the zip is written part by part). */
interface Body {
  parts: Buffer[]
  size: number
  crc: number
  length: number
}

/** The deflated bytes and the CRC-32 of the data, read slice by slice in order. */
async function compress(data: Uint8Array | FileBytes): Promise<Body> {
  const {length} = data
  // Each runner reads its file slices into a buffer of its own, reused once the slice is compressed.
  const read = (start: number, end: number, into: () => Buffer): Uint8Array => {
    if (data instanceof Uint8Array) return data.subarray(start, end)
    const slice = into().subarray(0, end - start)
    for (let done = 0; done < slice.length; ) {
      const got = readSync(data.fd, slice, done, slice.length - done, start + done)
      if (got === 0) throw new Error('The file ended ' + (slice.length - done) + ' bytes early')
      done += got
    }
    return slice
  }
  const count = Math.max(1, Math.ceil(length / sliceBytes))
  const parts: Buffer[] = new Array(count)
  let crc = 0
  let next = 0
  // After one runner fails, the others take no more slices: the caller closes the file once the zip has failed.
  let failed = false
  // Each runner takes the next slice, so slices are read (and checksummed) in order while up to `inFlight` compress.
  const runner = async (): Promise<void> => {
    let buffer: Buffer | undefined
    const into = (): Buffer => (buffer ??= Buffer.allocUnsafe(sliceBytes))
    while (next < count && !failed) {
      const index = next++
      try {
        const slice = read(index * sliceBytes, Math.min(length, (index + 1) * sliceBytes), into)
        crc = zlib.crc32(slice, crc)
        // A full flush ends every slice but the last on a byte boundary, without the final-block bit.
        parts[index] = await deflateRaw(slice, {level, finishFlush: index === count - 1 ? zlib.constants.Z_FINISH : zlib.constants.Z_FULL_FLUSH})
      } catch (error) {
        failed = true
        throw error
      }
    }
  }
  await Promise.all(Array.from({length: Math.min(count, inFlight)}, runner))
  return {parts, size: parts.reduce((sum, part) => sum + part.length, 0), crc, length}
}

function storedBytes(data: Uint8Array | FileBytes): Body {
  if (!(data instanceof Uint8Array)) throw new Error('A stored entry is given as bytes')
  return {parts: [Buffer.from(data.buffer, data.byteOffset, data.length)], size: data.length, crc: zlib.crc32(data), length: data.length}
}

/**
 * A zip of the given entries, in order (no zip64: an `.apkg` over 4 GiB is refused): its bytes, or, given a `sink`,
 * its length once every part went to the sink in order (no copy of the whole).
 */
export async function writeZip(entries: readonly ZipInput[]): Promise<Buffer>
export async function writeZip(entries: readonly ZipInput[], sink: (part: Uint8Array) => void): Promise<number>
export async function writeZip(entries: readonly ZipInput[], sink?: (part: Uint8Array) => void): Promise<Buffer | number> {
  const compressed = await Promise.all(entries.map((entry) => (entry.store ? storedBytes(entry.data) : compress(entry.data))))
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  entries.forEach((entry, index) => {
    const {parts, size, crc, length} = compressed[index] as Body
    const name = Buffer.from(entry.name, 'utf8')
    if (size >= 0xffffffff || length >= 0xffffffff || offset >= 0xffffffff || entries.length >= 0xffff) {
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
    fields.writeUInt32LE(crc, 10)
    fields.writeUInt32LE(size, 14)
    fields.writeUInt32LE(length, 18)
    fields.writeUInt16LE(name.length, 22)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    fields.copy(local, 4)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE(20, 4)
    fields.copy(central, 6)
    central.writeUInt32LE(offset, 42)
    locals.push(local, name, ...parts)
    centrals.push(central, name)
    offset += local.length + name.length + size
  })
  const directory = Buffer.concat(centrals)
  if (offset >= 0xffffffff) throw new Error('The deck is too large for a zip without zip64 (over 4 GiB)')
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(entries.length, 8)
  end.writeUInt16LE(entries.length, 10)
  end.writeUInt32LE(directory.length, 12)
  end.writeUInt32LE(offset, 16)
  const all = [...locals, directory, end]
  if (!sink) return Buffer.concat(all)
  for (const part of all) sink(part)
  return offset + directory.length + end.length
}
