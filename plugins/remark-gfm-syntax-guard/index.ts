import type {Root} from 'mdast'
import type {Construct, Event, Extension, TokenizeContext} from 'micromark-util-types'
import type {Processor} from 'unified'

/**
 * GFM constructs that micromark tries far more often than they match, each
 * with what a document must contain for it to ever match. The email literal
 * is tried at the start of every word and scans the word for an `@`; the
 * table is tried at the start of every paragraph line, reads that line as a
 * head row and the next as a delimiter row, which needs a `|` or an alignment
 * colon next to a `-`.
 * The tokenizer reads raw characters (a character reference never forms
 * syntax), so a test on the raw document is exact. On the bench corpus GFM
 * made the parse ~1.8× CommonMark's, nearly all of it these two.
 */
const needs: ReadonlyArray<readonly [name: string, mayMatch: (document: string) => boolean]> = [
  ['emailAutolink', (document) => document.includes('@')],
  ['wwwAutolink', (document) => /www\./i.test(document)],
  ['protocolAutolink', (document) => document.includes('://')],
  ['table', (document) => document.includes('|') || document.includes(':-') || document.includes('-:')]
]

/**
 * A line that could be a table's delimiter row: container prefixes (`>`,
 * indentation; a delimiter row is never lazy and never opens a list item)
 * and then only pipes, dashes, colons and whitespace.
 */
const delimiterLike = /^[ \t>]*[|:-][ \t|:-]*$/

/** Fields of a micromark extension that map character codes to constructs. */
const constructFields = ['document', 'contentInitial', 'flowInitial', 'flow', 'string', 'text'] as const

/**
 * Parse each document with only the GFM constructs that could match in it,
 * and try a table only on a line followed by a possible delimiter row (or
 * inside a table): the same tree as remark-gfm alone, for less work.
 * Constructs are found by name (micromark's own handle, as in `disable`), so
 * this works on whatever extension registered them, and any construct by one
 * of these names is taken to be GFM's; an unknown name leaves everything as it
 * was. The tests compare trees with and without the guard, so an upgrade of
 * micromark or its GFM extensions that breaks these assumptions fails them.
 * Use after remark-parse and remark-gfm.
 */
export default function remarkGfmSyntaxGuard(this: Processor): undefined {
  const self = this
  const parse = self.parser
  if (!parse) return
  // Lines (1-based) of the document being parsed that a table could start on.
  let headLines = new Set<number>()
  // The processor's own list while a parse has swapped it (a parse started inside a parse narrows from this).
  let whole: Extension[] | undefined
  const narrowed = new WeakMap<Extension, Map<number, Extension>>()
  const replace = (construct: Construct) => (construct.name === 'table' ? guardTable(construct, () => headLines) : construct)
  self.parser = function (document, file) {
    const data = self.data()
    const all = whole ?? data.micromarkExtensions
    if (!all) return parse(document, file)
    const skip = skipped(document)
    // remark-parse reads the list from the processor's data on every call;
    // the parse is synchronous, so the swap is seen by this document alone
    // (and restored for an outer one when this was started inside it).
    const outer = {list: data.micromarkExtensions, whole, headLines}
    whole = all
    headLines = skip & tableBit ? new Set() : tableHeadLines(document)
    data.micromarkExtensions = all.map((extension) => narrow(extension, skip, narrowed, replace))
    try {
      return parse(document, file) as Root
    } finally {
      data.micromarkExtensions = outer.list
      whole = outer.whole
      headLines = outer.headLines
    }
  }
}

const tableBit = 1 << needs.findIndex(([name]) => name === 'table')

/** The constructs that cannot match in `document`, as a bit set over `needs`. */
function skipped(document: string): number {
  let mask = 0
  needs.forEach(([, mayMatch], bit) => {
    if (!mayMatch(document)) mask |= 1 << bit
  })
  return mask
}

/** Lines (1-based) directly above a line that could be a delimiter row. */
function tableHeadLines(document: string): Set<number> {
  const heads = new Set<number>()
  // Line `index + 1` is the delimiter row of a table whose head is line `index`.
  document.split(/\r\n?|\n/).forEach((line, index) => {
    if (index > 0 && delimiterLike.test(line)) heads.add(index)
  })
  return heads
}

/**
 * The table construct, tried only where it could match: on a line that has a
 * possible delimiter row below it, or after a table's head or row (where the
 * table itself continues with body rows, by the same test on its events).
 */
function guardTable(table: Construct, headLines: () => Set<number>): Construct {
  return {
    ...table,
    tokenize(effects, ok, nok) {
      const self = this
      const start = table.tokenize.call(self, effects, ok, nok)
      return (code) => (headLines().has(self.now().line) || inTable(self) ? start(code) : nok(code))
    }
  }
}

function inTable(self: TokenizeContext): boolean {
  const events: Event[] = self.events
  let index = events.length - 1
  let type: string | undefined
  while (index > -1 && ((type = events[index]?.[1].type) === 'lineEnding' || type === 'linePrefix')) index--
  return index > -1 && (type === 'tableHead' || type === 'tableRow')
}

function narrow(
  extension: Extension,
  mask: number,
  cache: WeakMap<Extension, Map<number, Extension>>,
  replace: (construct: Construct) => Construct
): Extension {
  let variants = cache.get(extension)
  if (!variants) cache.set(extension, (variants = new Map()))
  let variant = variants.get(mask)
  if (!variant) {
    const names = new Set(needs.filter((_, bit) => mask & (1 << bit)).map(([name]) => name))
    variants.set(mask, (variant = rebuilt(extension, (construct) => (construct.name && names.has(construct.name) ? undefined : replace(construct)))))
  }
  return variant
}

/** `extension` with each construct mapped (`undefined` leaves it out); the same object when nothing changed. */
function rebuilt(extension: Extension, map: (construct: Construct) => Construct | undefined): Extension {
  let copy: Extension | undefined
  for (const field of constructFields) {
    const record = extension[field]
    if (!record) continue
    let narrowedRecord: typeof record | undefined
    for (const [code, value] of Object.entries(record)) {
      if (!value) continue
      const list: Construct[] = Array.isArray(value) ? value : [value]
      const kept = list.map(map).filter((construct) => construct !== undefined)
      if (kept.length === list.length && kept.every((construct, index) => construct === list[index])) continue
      narrowedRecord ??= {...record}
      if (kept.length === 0) delete narrowedRecord[code as unknown as number]
      else narrowedRecord[code as unknown as number] = kept
    }
    if (narrowedRecord) (copy ??= {...extension})[field] = narrowedRecord
  }
  return copy ?? extension
}
