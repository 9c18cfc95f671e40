import {fieldNames, notetypeName} from './notetype.js'
import type {PlannedCard} from './plan.js'

/**
 * `cards.json` and `cards.tsv`: every card of the build in two plain forms.
 * The TSV is Anki's text import format with its header lines, so File →
 * Import needs no clicking: the note type, deck, tags and GUID columns are
 * named, and a re-import matches notes on the GUID (never on the first field).
 */

/** One card as a record: the `tagpress anki import` record shape, plus where it came from. */
export function cardRecord(card: PlannedCard): Record<string, unknown> {
  return {
    id: card.id,
    guid: card.guid,
    source: card.source,
    line: card.line,
    package: card.package,
    deck: card.deck,
    tags: card.tags,
    mod: card.mod,
    media: card.media.map((file) => file.name),
    instruction: card.fields.Instruction,
    question: card.fields.Question,
    answer_intro: card.fields.AnswerIntro,
    answer: card.fields.Answer,
    parent_ref: card.fields.ParentRef
  }
}

/** `cards.json`: `{"notetype": {...}, "cards": [...]}`, one card a line (diffs stay readable). */
export function cardsJson(cards: readonly PlannedCard[]): string {
  return jsonHead() + jsonCards(cards, true) + jsonTail(cards.length === 0)
}

/**
 * `cards.json` in three parts, so that a build can splice it source by source: the head, each source's cards (a
 * line each, after the comma that ends the card before, unless it holds the file's first card), and the tail.
 */
export function jsonHead(): string {
  return '{"notetype":' + JSON.stringify({name: notetypeName, fields: fieldNames}) + ',"cards":['
}

export function jsonCards(cards: readonly PlannedCard[], first: boolean): string {
  let text = ''
  cards.forEach((card, index) => {
    text += (first && index === 0 ? '\n' : ',\n') + JSON.stringify(cardRecord(card))
  })
  return text
}

export function jsonTail(empty: boolean): string {
  return empty ? ']}\n' : '\n]}\n'
}

export const tsvColumns = [...fieldNames, 'Deck', 'Tags', 'GUID'] as const

/** The header lines of `cards.tsv` (Anki manual, "Importing text files": file headers). */
export function tsvHeader(): string {
  const column = (name: (typeof tsvColumns)[number]) => tsvColumns.indexOf(name) + 1
  return [
    '#separator:tab',
    '#html:true',
    '#notetype:' + notetypeName,
    '#deck column:' + column('Deck'),
    '#tags column:' + column('Tags'),
    '#guid column:' + column('GUID'),
    '#if matches:update current',
    '#columns:' + tsvColumns.join('\t')
  ].join('\n') + '\n'
}

/** A TSV cell: quoted (CSV style, `"` doubled) when it holds a tab, a line break or a quote, or starts with `#` (a comment to Anki's reader). */
export function tsvCell(value: string): string {
  return /[\t\n\r"]/.test(value) || value.startsWith('#') ? '"' + value.replace(/"/g, '""') + '"' : value
}

export function cardsTsv(cards: readonly PlannedCard[]): string {
  return tsvHeader() + tsvLines(cards)
}

/** The cards' lines of `cards.tsv` (a cell may hold a quoted line break). */
export function tsvLines(cards: readonly PlannedCard[]): string {
  let out = ''
  for (const card of cards) {
    const cells = [...fieldNames.map((name) => card.fields[name]), card.deck, card.tags.join(' '), card.guid]
    out += cells.map(tsvCell).join('\t') + '\n'
  }
  return out
}
