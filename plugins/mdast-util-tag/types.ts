import type {BlockContent, Data, Node, Parent, PhrasingContent} from 'mdast'

/** What a tag does: `[/X]` opens, `[X/]` closes, `[/X/]` stands alone. */
export type TagKind = 'open' | 'close' | 'void'

export interface TagMarkerData extends Data {}

/**
 * One tag as written, before pairing: in phrasing (`flow: false`) or alone
 * on its line between blocks (`flow: true`).
 */
export interface TagMarker extends Node {
  type: 'tagMarker'
  name: string
  kind: TagKind
  /** Explicit id, from `[/Q#id]`. */
  id?: string | undefined
  flow: boolean
  data?: TagMarkerData | undefined
}

export interface TagPhraseData extends Data {}

/** A paired tag inside one paragraph, heading or cell: `[/Q]How?[Q/]`. */
export interface TagPhrase extends Parent {
  type: 'tagPhrase'
  name: string
  id?: string | undefined
  children: PhrasingContent[]
  /** Source offsets of the text between the tags (for records: source with the tags removed). */
  contentStart: number
  contentEnd: number
  data?: TagPhraseData | undefined
}

export interface TagBlockData extends Data {}

/** A paired tag spanning whole blocks: `[/A]` at the start of one, `[A/]` at the end of a later one. */
export interface TagBlock extends Parent {
  type: 'tagBlock'
  name: string
  id?: string | undefined
  children: BlockContent[]
  /** Source offsets of the text between the tags. */
  contentStart: number
  contentEnd: number
  data?: TagBlockData | undefined
}

declare module 'mdast' {
  interface RootContentMap {
    tagMarker: TagMarker
    tagPhrase: TagPhrase
    tagBlock: TagBlock
  }
  interface BlockContentMap {
    tagMarker: TagMarker
    tagBlock: TagBlock
  }
  interface PhrasingContentMap {
    tagMarker: TagMarker
    tagPhrase: TagPhrase
  }
}
