import {readSync} from 'node:fs'

/**
 * Pass `bytes` bytes of an open file, from `offset`, to `sink` through
 * `buffer`, a chunk at a time: how the splice writers reuse what an earlier
 * build wrote without loading it. `what` names the file in the error when it
 * turns out shorter than recorded.
 */
export function copyRange(fd: number, offset: number, bytes: number, buffer: Buffer, sink: (data: Buffer, length: number) => void, what: string): void {
  let at = offset
  let left = bytes
  while (left > 0) {
    const read = readSync(fd, buffer, 0, Math.min(buffer.length, left), at)
    if (read === 0) throw new Error('Unexpected end of ' + what + ' while reusing it')
    sink(buffer, read)
    at += read
    left -= read
  }
}
