import type {Root} from 'mdast'
import type {Construct, Extension} from 'micromark-util-types'
import type {Processor} from 'unified'

/**
 * GFM constructs that micromark tries far more often than they match, each
 * with what a document must contain for it to ever match. The email literal
 * is tried at the start of every word and scans the word for an `@`; the
 * table is tried at the start of every paragraph line and reads the next line
 * as a delimiter row, which needs a `|` or an alignment colon next to a `-`.
 * The tokenizer reads raw characters (a character reference never forms
 * syntax), so a test on the raw document is exact. In the bench corpus these
 * four cost more than all of CommonMark's own text constructs together.
 */
const needs: ReadonlyArray<readonly [name: string, mayMatch: (document: string) => boolean]> = [
  ['emailAutolink', (document) => document.includes('@')],
  ['wwwAutolink', (document) => /www\./i.test(document)],
  ['protocolAutolink', (document) => document.includes('://')],
  ['table', (document) => document.includes('|') || document.includes(':-') || document.includes('-:')]
]

/** Fields of a micromark extension that map character codes to constructs. */
const constructFields = ['document', 'contentInitial', 'flowInitial', 'flow', 'string', 'text'] as const

/**
 * Parse each document with only the GFM constructs that could match in it:
 * the same tree as remark-gfm alone, for less work. Construct records are
 * narrowed by construct name (micromark's own handle, as in `disable`), so
 * it works on whatever extension registered them; an unknown name leaves
 * everything as it was. Use after remark-parse and remark-gfm.
 */
export default function remarkGfmSyntaxGuard(this: Processor): undefined {
  const self = this
  const parse = self.parser
  if (!parse) return
  const narrowed = new WeakMap<Extension, Map<number, Extension>>()
  self.parser = function (document, file) {
    const data = self.data()
    const all = data.micromarkExtensions
    const skip = skipped(document)
    if (!all || skip === 0) return parse(document, file)
    // remark-parse reads the list from the processor's data on every call;
    // the parse is synchronous, so swapping it for this call is seen by no
    // other document.
    data.micromarkExtensions = all.map((extension) => narrow(extension, skip, narrowed))
    try {
      return parse(document, file) as Root
    } finally {
      data.micromarkExtensions = all
    }
  }
}

/** The constructs that cannot match in `document`, as a bit set over `needs`. */
function skipped(document: string): number {
  let mask = 0
  needs.forEach(([, mayMatch], bit) => {
    if (!mayMatch(document)) mask |= 1 << bit
  })
  return mask
}

function narrow(extension: Extension, mask: number, cache: WeakMap<Extension, Map<number, Extension>>): Extension {
  let variants = cache.get(extension)
  if (!variants) cache.set(extension, (variants = new Map()))
  let variant = variants.get(mask)
  if (!variant) variants.set(mask, (variant = without(extension, new Set(needs.filter((_, bit) => mask & (1 << bit)).map(([name]) => name)))))
  return variant
}

/** `extension` without the named constructs; the same object when it has none of them. */
function without(extension: Extension, names: ReadonlySet<string>): Extension {
  let copy: Extension | undefined
  for (const field of constructFields) {
    const record = extension[field]
    if (!record) continue
    let narrowedRecord: typeof record | undefined
    for (const [code, value] of Object.entries(record)) {
      if (!value) continue
      const list: Construct[] = Array.isArray(value) ? value : [value]
      const kept = list.filter((construct) => !(construct.name && names.has(construct.name)))
      if (kept.length === list.length) continue
      narrowedRecord ??= {...record}
      if (kept.length === 0) delete narrowedRecord[code as unknown as number]
      else narrowedRecord[code as unknown as number] = kept
    }
    if (narrowedRecord) (copy ??= {...extension})[field] = narrowedRecord
  }
  return copy ?? extension
}
