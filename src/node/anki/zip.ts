import {closeSync, fstatSync, openSync, readSync} from 'node:fs'
import zlib from 'node:zlib'

/**
 * A small zip reader that reads only what it is asked for: the central
 * directory, then single entries, so a deck with a gigabyte of media costs
 * the size of its collection, not of the whole file. Zip64 is supported;
 * entries are stored or deflated (what Anki, genanki and tagpress write).
 */

export interface ZipEntry {
  name: string
  method: number
  crc: number
  compressedSize: number
  size: number
  /** Offset of the entry's local header. */
  offset: number
}

/** Thrown for files that are not zips, or damaged ones; the message says which. */
export class ZipError extends Error {
  override name = 'ZipError'
}

export class ZipReader {
  private readonly fd: number
  readonly size: number
  readonly entries = new Map<string, ZipEntry>()

  constructor(file: string) {
    this.fd = openSync(file, 'r')
    try {
      this.size = fstatSync(this.fd).size
      this.readDirectory()
    } catch (error) {
      closeSync(this.fd)
      throw error
    }
  }

  close(): void {
    closeSync(this.fd)
  }

  /** An entry's bytes, inflated and checked against its CRC-32. */
  read(name: string): Uint8Array {
    const entry = this.entries.get(name)
    if (!entry) throw new ZipError('it has no entry `' + name + '`')
    const header = this.bytes(entry.offset, 30)
    if (header.readUInt32LE(0) !== 0x04034b50) throw new ZipError('the entry `' + name + '` is damaged (no local header)')
    const start = entry.offset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28)
    const raw = this.bytes(start, entry.compressedSize)
    let data: Uint8Array
    if (entry.method === 0) data = raw
    else if (entry.method === 8) {
      try {
        data = zlib.inflateRawSync(raw)
      } catch {
        throw new ZipError('the entry `' + name + '` is damaged (it does not inflate)')
      }
    } else throw new ZipError('the entry `' + name + '` uses compression method ' + entry.method + ', which tagpress cannot read')
    if (data.length !== entry.size) throw new ZipError('the entry `' + name + '` is damaged (wrong size)')
    const crc32 = (zlib as unknown as {crc32?: (data: Uint8Array) => number}).crc32
    if (crc32 && crc32(data) >>> 0 !== entry.crc >>> 0) throw new ZipError('the entry `' + name + '` is damaged (checksum mismatch)')
    return data
  }

  private bytes(position: number, length: number): Buffer {
    if (position < 0 || length < 0 || position + length > this.size) throw new ZipError('it is truncated or damaged')
    const buffer = Buffer.alloc(length)
    let done = 0
    while (done < length) {
      const read = readSync(this.fd, buffer, done, length - done, position + done)
      if (read === 0) throw new ZipError('it is truncated')
      done += read
    }
    return buffer
  }

  private readDirectory(): void {
    if (this.size < 22) throw new ZipError('it is not a zip file')
    const tailLength = Math.min(this.size, 22 + 0xffff)
    const tail = this.bytes(this.size - tailLength, tailLength)
    let end = -1
    for (let at = tail.length - 22; at >= 0; at--) {
      if (tail.readUInt32LE(at) === 0x06054b50) {
        end = at
        break
      }
    }
    if (end === -1) throw new ZipError('it is not a zip file')
    let count = tail.readUInt16LE(end + 10)
    let directorySize = tail.readUInt32LE(end + 12)
    let directoryOffset = tail.readUInt32LE(end + 16)
    if (count === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
      // Zip64: the locator sits just before the end record.
      const locatorAt = this.size - tailLength + end - 20
      const locator = this.bytes(locatorAt, 20)
      if (locator.readUInt32LE(0) !== 0x07064b50) throw new ZipError('it is damaged (zip64 locator missing)')
      const record = this.bytes(Number(locator.readBigUInt64LE(8)), 56)
      if (record.readUInt32LE(0) !== 0x06064b50) throw new ZipError('it is damaged (zip64 end record missing)')
      count = Number(record.readBigUInt64LE(32))
      directorySize = Number(record.readBigUInt64LE(40))
      directoryOffset = Number(record.readBigUInt64LE(48))
    }
    const directory = this.bytes(directoryOffset, directorySize)
    let at = 0
    for (let index = 0; index < count; index++) {
      if (at + 46 > directory.length || directory.readUInt32LE(at) !== 0x02014b50) throw new ZipError('it is damaged (bad central directory)')
      const nameLength = directory.readUInt16LE(at + 28)
      const extraLength = directory.readUInt16LE(at + 30)
      const commentLength = directory.readUInt16LE(at + 32)
      const name = directory.toString('utf8', at + 46, at + 46 + nameLength)
      let compressedSize = directory.readUInt32LE(at + 20)
      let size = directory.readUInt32LE(at + 24)
      let offset = directory.readUInt32LE(at + 42)
      if (compressedSize === 0xffffffff || size === 0xffffffff || offset === 0xffffffff) {
        // Zip64 extra field: the 64-bit values, in this order, only for the fields that overflowed.
        let extra = at + 46 + nameLength
        const extraEnd = extra + extraLength
        while (extra + 4 <= extraEnd) {
          const id = directory.readUInt16LE(extra)
          const length = directory.readUInt16LE(extra + 2)
          if (id === 0x0001) {
            let field = extra + 4
            if (size === 0xffffffff) (size = Number(directory.readBigUInt64LE(field))), (field += 8)
            if (compressedSize === 0xffffffff) (compressedSize = Number(directory.readBigUInt64LE(field))), (field += 8)
            if (offset === 0xffffffff) offset = Number(directory.readBigUInt64LE(field))
            break
          }
          extra += 4 + length
        }
      }
      this.entries.set(name, {name, method: directory.readUInt16LE(at + 10), crc: directory.readUInt32LE(at + 16), compressedSize, size, offset})
      at += 46 + nameLength + extraLength + commentLength
    }
  }
}
