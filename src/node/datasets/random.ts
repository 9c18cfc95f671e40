/** A small, fast, seedable PRNG (sfc32, seeded through splitmix32): the same seed gives the same numbers on every platform. */
export function seededRandom(...seeds: number[]): () => number {
  let state = 0x9e3779b9
  const mix = (): number => {
    state = (state + 0x9e3779b9) | 0
    let z = state
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return (z ^ (z >>> 16)) >>> 0
  }
  for (const seed of seeds) {
    state ^= seed | 0
    state = (state + Math.floor(seed / 4294967296)) | 0
    mix()
  }
  let a = mix()
  let b = mix()
  let c = mix()
  let d = mix() | 1
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return t >>> 0
  }
  for (let i = 0; i < 12; i++) next()
  // 53 random bits in [0, 1).
  return () => ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992
}

/** A uniform integer in [0, n). */
export function randomBelow(random: () => number, n: number): number {
  return Math.floor(random() * n)
}
