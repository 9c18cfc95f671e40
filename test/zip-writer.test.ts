import {randomBytes} from 'node:crypto'
import {closeSync, mkdtempSync, openSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import zlib from 'node:zlib'
import {unzipSync} from 'fflate'
import {describe, expect, test} from 'vitest'
import {deflateSlices, writeZip} from '../src/node/anki/zip-writer.js'

// Compressible but not trivial: text with random runs, several MiB so it spans many slices.
function sample(bytes: number): Buffer {
  const parts: Buffer[] = []
  let size = 0
  for (let i = 0; size < bytes; i++) {
    const part = i % 3 === 0 ? randomBytes(300) : Buffer.from('<p>tagpress note ' + i + ' answer text, repeated. </p>'.repeat(20))
    parts.push(part)
    size += part.length
  }
  return Buffer.concat(parts).subarray(0, bytes)
}

describe('the .apkg zip writer', () => {
  test('sliced deflate is one valid deflate stream, across slice boundaries and at exact multiples', async () => {
    for (const size of [0, 1, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 * (1 << 20), 5 * (1 << 20) + 12345]) {
      const data = sample(size)
      const packed = await deflateSlices(data)
      expect(Buffer.compare(zlib.inflateRawSync(packed), data), 'size ' + size).toBe(0)
    }
  })

  test('another zip reader (fflate) reads every entry back, stored and deflated, with their CRCs', async () => {
    const big = sample(2.5 * (1 << 20))
    const image = randomBytes(5000)
    const zip = await writeZip([
      {name: 'collection.anki2', data: big},
      {name: '0', data: image, store: true},
      {name: 'médias', data: Buffer.from('{"0":"a.png"}')}
    ])
    const files = unzipSync(zip)
    expect(Object.keys(files).sort()).toEqual(['0', 'collection.anki2', 'médias'])
    expect(Buffer.compare(Buffer.from(files['collection.anki2']!), big)).toBe(0)
    expect(Buffer.compare(Buffer.from(files['0']!), image)).toBe(0)
    expect(Buffer.from(files['médias']!).toString()).toBe('{"0":"a.png"}')
    expect(zip.length).toBeLessThan(big.length)
  })

  test('the same entries give the same bytes', async () => {
    const data = sample(3 * (1 << 20))
    const a = await writeZip([{name: 'collection.anki2', data}])
    const b = await writeZip([{name: 'collection.anki2', data: Buffer.from(data)}])
    expect(Buffer.compare(a, b)).toBe(0)
  })

  test('an entry read from a file, a few slices at a time, gives the same bytes as from memory', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tagpress-zip-'))
    try {
      for (const size of [0, 1, 1 << 20, 6 * (1 << 20) + 777]) {
        const data = sample(size)
        const file = path.join(dir, 'data-' + size)
        // Bytes after `length` are not part of the entry.
        writeFileSync(file, Buffer.concat([data, Buffer.from('trailing bytes that are not read')]))
        const fd = openSync(file, 'r')
        try {
          const fromFile = await writeZip([{name: 'collection.anki2', data: {fd, length: size}}])
          expect(Buffer.compare(fromFile, await writeZip([{name: 'collection.anki2', data}])), 'size ' + size).toBe(0)
          expect(Buffer.compare(Buffer.from(unzipSync(fromFile)['collection.anki2']!), data)).toBe(0)
        } finally {
          closeSync(fd)
        }
      }
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
