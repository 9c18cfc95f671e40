import {hash} from 'node:crypto'

/**
 * A record's place in [0, 1) for the train/validation split: the first 52
 * bits of SHA-256(`<seed>:<id>`). It depends on the id and the seed alone,
 * so a record keeps its split when others are added, removed or edited.
 */
export function splitPoint(seed: number, id: string): number {
  // One call per record of every build: the one-shot hash costs half a Hash object's.
  const digest = hash('sha256', seed + ':' + id, 'buffer')
  // 20 + 32 bits, exactly representable in a double.
  return ((digest.readUInt32BE(0) >>> 12) * 4294967296 + digest.readUInt32BE(4)) / 4503599627370496
}

/** Validation when the record's point is below the fraction. */
export function inValidation(point: number, valFraction: number): boolean {
  return point < valFraction
}
