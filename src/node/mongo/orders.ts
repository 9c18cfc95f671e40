/**
 * `order` values for the nodes of one tree, in display order, that keep the
 * values the database already has wherever they still sort correctly: a
 * node inserted between two others gets a value between theirs, so nothing
 * else is rewritten ("ids are not positions, and neither are orders").
 *
 * The nodes that keep their value are a longest strictly increasing run of
 * the old values (in the new sequence); the others are spaced evenly between
 * their kept neighbours (whole steps of 1 when there is room). Only when a
 * gap has run out of floating-point room is the whole tree renumbered 0…n-1.
 * With no old values, the result is 0…n-1, as in `nodes.jsonl`.
 */
export function assignOrders(ids: readonly string[], old: ReadonlyMap<string, number>): number[] {
  const n = ids.length
  const previous = ids.map((id) => {
    const value = old.get(id)
    return typeof value === 'number' && Number.isFinite(value) ? value : undefined
  })
  const keep = longestIncreasing(previous)
  const orders = new Array<number>(n)
  let at = 0
  while (at < n) {
    if (keep[at]) {
      orders[at] = previous[at] as number
      at++
      continue
    }
    let end = at
    while (end < n && !keep[end]) end++
    const count = end - at
    const low = at > 0 ? orders[at - 1] : undefined
    const high = end < n ? (previous[end] as number) : undefined
    for (let i = 0; i < count; i++) orders[at + i] = between(low, high, i, count)
    at = end
  }
  for (let i = 1; i < n; i++) {
    if (!((orders[i] as number) > (orders[i - 1] as number))) return ids.map((_, index) => index)
  }
  return orders
}

/** The i-th of `count` values strictly between `low` and `high` (either may be open). */
function between(low: number | undefined, high: number | undefined, i: number, count: number): number {
  if (low === undefined && high === undefined) return i
  if (high === undefined) return (low as number) + i + 1
  if (low === undefined) return high - count + i
  if (high - low > count) return low + i + 1
  return low + ((high - low) * (i + 1)) / (count + 1)
}

/** Marks a longest strictly increasing subsequence of the defined values (patience sorting, O(n log n)). */
function longestIncreasing(values: ReadonlyArray<number | undefined>): boolean[] {
  const tails: number[] = [] // index into values of the smallest tail of each length
  const before = new Array<number>(values.length).fill(-1)
  values.forEach((value, index) => {
    if (value === undefined) return
    let lo = 0
    let hi = tails.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if ((values[tails[mid] as number] as number) < value) lo = mid + 1
      else hi = mid
    }
    if (lo > 0) before[index] = tails[lo - 1] as number
    tails[lo] = index
  })
  const keep = new Array<boolean>(values.length).fill(false)
  for (let index = tails.length > 0 ? (tails[tails.length - 1] as number) : -1; index !== -1; index = before[index] as number) keep[index] = true
  return keep
}
