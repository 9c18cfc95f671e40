import {slug} from 'github-slugger'

/** GitHub's slug of a title, `section` when nothing is left of it. */
export function slugOf(title: string): string {
  return slug(title) || 'section'
}

/** `base`, or `base-1`, `base-2`, … whichever is still free; marks it used. */
export function uniqueAnchor(base: string, used: Set<string>): string {
  let anchor = base
  for (let count = 1; used.has(anchor); count++) anchor = base + '-' + count
  used.add(anchor)
  return anchor
}
