import type {Element, Root} from 'hast'
import type {Position} from 'unist'
import {walkElements} from '../hast-walk.js'
import type {VFile} from 'vfile'

/** What a local link or image points at, once resolved by the caller. */
export type Resolved =
  /** A page: the new href and, for the link check, its target. */
  | {kind: 'page'; href: string; fileId: string; fragment?: string}
  /** A file copied to the site (image, download). */
  | {kind: 'asset'; href: string}
  /** Not found: an error at the link's position. */
  | {kind: 'missing'; reason: string}

export interface Options {
  /**
   * Resolve a local URL (no scheme, not a pure `#fragment`) found in `file`;
   * `undefined` leaves it as written.
   */
  resolve: (url: string, file: VFile, tag: 'a' | 'img') => Resolved | undefined
}

/** A link to check once every page is compiled. */
export interface LinkRef {
  fileId: string
  /** Empty for a link to the page itself. */
  fragment: string
  line: number
  column: number
  /** The URL as written. */
  url: string
}

declare module 'vfile' {
  interface DataMap {
    /** Local links of the page, to check against the targets' anchors. */
    links: LinkRef[]
    /** Local links that could not be resolved (missing files), with positions. */
    missing: Array<{url: string; reason: string; position: Position | undefined}>
  }
}

const external = /^[a-z][a-z\d+.-]*:|^\/\//i

/**
 * Rewrite local links and images (`./other.md#x` → the page's URL, images →
 * content-hashed assets) through `options.resolve`, and collect links for the
 * dead-link and dead-anchor check (`file.data.links`).
 */
export default function rehypeLinks(options: Options) {
  return (tree: Root, file: VFile): undefined => {
    const links: LinkRef[] = []
    const missing: DataMapMissing = []
    walkElements(tree, (node: Element) => {
      const attribute = node.tagName === 'a' ? 'href' : node.tagName === 'img' ? 'src' : undefined
      if (!attribute) return
      const url = node.properties[attribute]
      if (typeof url !== 'string' || url === '' || external.test(url)) return
      const start = node.position?.start
      if (url.startsWith('#')) {
        if (!isGenerated(node)) links.push({fileId: '', fragment: decode(url.slice(1)), line: start?.line ?? 0, column: start?.column ?? 0, url})
        return
      }
      const resolved = options.resolve(url, file, node.tagName as 'a' | 'img')
      if (!resolved) return
      if (resolved.kind === 'missing') {
        missing.push({url, reason: resolved.reason, position: node.position})
        return
      }
      node.properties[attribute] = resolved.href
      if (resolved.kind === 'page') {
        links.push({fileId: resolved.fileId, fragment: resolved.fragment ?? '', line: start?.line ?? 0, column: start?.column ?? 0, url})
      }
    })
    file.data.links = links
    file.data.missing = missing
  }
}

type DataMapMissing = Array<{url: string; reason: string; position: Position | undefined}>

/** Anchors and footnote links we generated ourselves need no check. */
function isGenerated(node: Element): boolean {
  const classes = node.properties.className
  if (Array.isArray(classes) && (classes.includes('header-anchor') || classes.includes('tp-anchor'))) return true
  return node.properties.dataFootnoteRef !== undefined || node.properties.dataFootnoteBackref !== undefined
}

function decode(fragment: string): string {
  try {
    return decodeURIComponent(fragment)
  } catch {
    return fragment
  }
}
