import path from 'node:path'
import type {QaInfo, SectionInfo} from '../compile/types.js'
import {pagePathOf} from '../compile/resolve.js'
import type {Config} from '../config/types.js'
import type {PublishedFile} from '../outputs/types.js'
import {cleanField, escapeHtml, rewriteCardHtml, stripHtml} from './html.js'
import {fieldChecksum, guidFor} from './ids.js'
import {fieldNames, type FieldName} from './notetype.js'

/**
 * The deck plan: which cards the published files make, with their fields,
 * GUIDs, decks, tags and packages. Pure: no file is read here but the
 * compiled detail of each file.
 */

/** One card (one note) as the writers see it. */
export interface PlannedCard {
  /** The Q/A's id, `file_id#anchor`. */
  id: string
  guid: string
  /** Source file (path in content/) and line of the question. */
  source: string
  line: number
  /** The `.apkg` it goes into, relative to the out folder. */
  package: string
  deck: string
  tags: string[]
  fields: Record<FieldName, string>
  /** Media the fields reference: file name in the deck → site path. */
  media: Array<{name: string; sitePath: string}>
  /** Note mod time, seconds: the source's time. */
  mod: number
  /** Where the question stands (section slug path and number in it), to notice a reworded question. */
  slot: string
  /** The question as plain text, for messages. */
  question: string
  /** Anki's checksum of the first field (`csum`): kept with the plan, so a deck made from cached plans hashes no field again. */
  checksum: number
}

/** The default Instruction: the chapter path and the question's number in its section. */
export const defaultInstruction = '{path} · question {n}'

/** Placeholders of `anki.instruction` (and of the default). */
export interface InstructionValues {
  path: string
  section: string
  page: string
  n: number
  file: string
  chapter_id: string
  deck: string
}

export function fillInstruction(template: string, values: InstructionValues): string {
  return template.replace(/\{(path|section|page|n|file|chapter_id|deck)\}/g, (_whole, key: keyof InstructionValues) => String(values[key]))
}

/** A deck name component as Anki keeps it (rslib `normalized_deck_name_component`), without `::` inside. */
export function deckComponent(name: string): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = name.normalize('NFC').replace(/[\u0000-\u001f\u007f]/g, '').replace(/::+/g, ':').replace(/\s+/g, ' ')
  const trimmed = cleaned.replace(/^[\s:]+|[\s:]+$/g, '')
  return trimmed === '' ? 'blank' : trimmed
}

/**
 * Deck names that differ only in case are one deck to Anki (its deck names are
 * unique without regard to case): give every card the first spelling met, for
 * each level of the path, so a package never holds two such decks.
 */
export function unifyDeckCase(cards: ReadonlyArray<{deck: string}>): void {
  new DeckCase().unify(cards)
}

/** `unifyDeckCase` a few cards at a time, in order (a file's cards as they are planned): the same result. */
export class DeckCase {
  /** The first spelling of each deck path, by its lower case. */
  private readonly spelling = new Map<string, string>()
  /** Each name once: the cards of a section then share one string (~45,000 cards, ~10,000 sections at 10,000 files). */
  private readonly unified = new Map<string, string>()

  unify(cards: ReadonlyArray<{deck: string}>): void {
    for (const card of cards) {
      const known = this.unified.get(card.deck)
      if (known !== undefined) {
        card.deck = known
        continue
      }
      let path = ''
      for (const part of card.deck.split('::')) {
        const candidate = path === '' ? part : path + '::' + part
        const key = candidate.toLowerCase()
        const spelled = this.spelling.get(key)
        if (spelled === undefined) this.spelling.set(key, candidate)
        path = spelled ?? candidate
      }
      this.unified.set(card.deck, path)
      card.deck = path
    }
  }
}

/** A tag as Anki keeps it (rslib `tags/register.rs`): no spaces or control characters; `::` nests. */
export function ankiTag(tag: string): string | undefined {
  const parts = tag
    .normalize('NFC')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim()
    .replace(/[\s\u3000]+/g, '_')
    .split('::')
    .map((part) => part.replace(/^_+|_+$/g, ''))
    .filter((part) => part !== '')
  return parts.length > 0 ? parts.join('::') : undefined
}

/** The tags of a file's cards: `tagpress`, its path (`guide::intro`), its front matter `tags`; deduplicated as Anki does (ignoring case), sorted. */
export function tagsOf(fileId: string, frontMatter: unknown): string[] {
  const raw: string[] = ['tagpress', fileId.split('/').join('::')]
  if (typeof frontMatter === 'string') raw.push(...frontMatter.split(/[\s,]+/))
  else if (Array.isArray(frontMatter)) for (const tag of frontMatter) if (typeof tag === 'string') raw.push(tag)
  const seen = new Map<string, string>()
  for (const tag of raw) {
    const clean = ankiTag(tag)
    if (clean && !seen.has(clean.toLowerCase())) seen.set(clean.toLowerCase(), clean)
  }
  return [...seen.values()].sort((a, b) => compareText(a.toLowerCase(), b.toLowerCase()) || compareText(a, b))
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** A name safe in a file name (keeps letters and digits of any script). */
export function fileSafe(name: string): string {
  const safe = name.normalize('NFC').replace(/[^\p{L}\p{N}._-]+/gu, '-').replace(/^[-.]+|-+$/g, '')
  return safe === '' ? 'deck' : safe
}

/** The package a file's cards go into, relative to the out folder. */
export function packageOf(config: Config, source: string, fileId: string): string {
  const deck = fileSafe(config.anki.deck)
  switch (config.anki.packages) {
    case 'file':
      return 'anki/' + deck + '/' + fileId.split('/').map(fileSafe).join('/') + '.apkg'
    case 'folder': {
      const slash = source.indexOf('/')
      return slash === -1 ? 'anki/' + deck + '.apkg' : 'anki/' + deck + '/' + fileSafe(source.slice(0, slash)) + '.apkg'
    }
    default:
      return 'anki/' + deck + '.apkg'
  }
}

/**
 * The GUID of a Q/A: from the explicit id (`[/Q#my-id]`) when the author gave
 * one, else from the question's text (plus its occurrence, when the same
 * question is asked twice in a file); always with the file id and the project
 * deck (GUIDs are global in a collection). Never from its position, so that
 * inserting a question moves no review history to another card.
 */
export function guidOf(namespace: string, fileId: string, qa: Pick<QaInfo, 'explicitId' | 'questionText'>, occurrence: number): string {
  if (qa.explicitId) return guidFor('tagpress', namespace, fileId, 'id', qa.explicitId)
  const text = qa.questionText.normalize('NFC').replace(/\s+/g, ' ').trim()
  return occurrence > 1 ? guidFor('tagpress', namespace, fileId, 'q', text, occurrence) : guidFor('tagpress', namespace, fileId, 'q', text)
}

/** Site path of an image → the media file name in decks: its content-hashed base name from the site, made safe. */
export function mediaName(sitePath: string): string {
  let decoded = sitePath
  try {
    decoded = decodeURIComponent(sitePath)
  } catch {
    // keep as written
  }
  const base = path.posix.basename(decoded.split(/[?#]/)[0] as string)
  return base.normalize('NFC').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+/, '') || 'media'
}

/**
 * The section a card belongs to: the Q/A's section, or for a question that is
 * a heading (FAQ pages), the section around that heading, so that a page of
 * heading questions makes one deck, not one deck per question.
 */
function placeOf(sections: readonly SectionInfo[], qa: Pick<QaInfo, 'section' | 'questionText'>): number {
  const section = sections[qa.section]
  if (!section) return -1
  const text = qa.questionText.replace(/\s+/g, ' ').trim()
  return section.title === text || section.text.replace(/\s+/g, ' ').trim() === text ? section.parent : qa.section
}

/** The cards of one published file, in document order. */
export function planFile(config: Config, file: PublishedFile, instruction = config.anki.instruction ?? defaultInstruction): PlannedCard[] {
  const {meta} = file
  if (meta.settings.anki === false) return []
  const detail = file.detail()
  if (detail.qa.length === 0) return []
  const fileId = meta.fileId
  const pkg = packageOf(config, file.source, fileId)
  const tags = tagsOf(fileId, meta.settings.tags)
  const page = pagePathOf(fileId)
  const counts = new Map<number, number>()
  const occurrences = new Map<string, number>()
  return detail.qa.map((qa) => {
    const index = placeOf(detail.sections, qa)
    const section: SectionInfo | undefined = detail.sections[index]
    const n = (counts.get(index) ?? 0) + 1
    counts.set(index, n)
    const text = qa.questionText.normalize('NFC').replace(/\s+/g, ' ').trim()
    const occurrence = (occurrences.get(text) ?? 0) + 1
    occurrences.set(text, occurrence)
    const chapterTree = section && section.chapterTree.length > 0 ? section.chapterTree : [meta.title]
    // ParentRef names the Q/A's own section, as `chapter_id` does in qa.jsonl.
    const chapterId = detail.sections[qa.section]?.number ?? '0'
    const deck = [config.anki.deck, ...chapterTree].map(deckComponent).join('::')
    const media = new Map<string, string>()
    const rewrite = (html: string) =>
      rewriteCardHtml(html, {
        base: config.site.base,
        url: config.site.url,
        page,
        media: (sitePath) => {
          if (!qa.media.includes(sitePath)) return undefined
          const name = mediaName(sitePath)
          media.set(name, sitePath)
          return name
        }
      })
    const values: InstructionValues = {
      path: chapterTree.join(' › '),
      section: section?.title || meta.title,
      page: meta.title,
      n,
      file: fileId,
      chapter_id: chapterId,
      deck
    }
    const fields: Record<FieldName, string> = {
      Instruction: cleanField(escapeHtml(fillInstruction(instruction, values))),
      Question: cleanField(rewrite(qa.questionHtml || escapeHtml(qa.question))),
      AnswerIntro: cleanField(escapeHtml(config.anki.answerIntro)),
      Answer: cleanField(rewrite(qa.answerHtml || escapeHtml(qa.answer))),
      ParentRef: cleanField(escapeHtml(fileId + '#' + chapterId))
    }
    return {
      id: qa.id,
      guid: guidOf(config.anki.deck, fileId, qa, occurrence),
      source: file.source,
      line: qa.line,
      package: pkg,
      deck,
      tags,
      fields,
      media: [...media].map(([name, sitePath]) => ({name, sitePath})),
      mod: Math.max(1, Math.floor(file.time)),
      slot: (section?.slugPath ?? '') + '#' + n,
      question: text,
      checksum: fieldChecksum(stripHtml(fields[fieldNames[0]]))
    }
  })
}
