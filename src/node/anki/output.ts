import {createHash} from 'node:crypto'
import {readdirSync, readFileSync, rmSync, statSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {AsideFile} from '../fs/atomic.js'
import type {Config} from '../config/types.js'
import type {BuildOutput, OutputContext, OutputFile, OutputResult, PublishedFile} from '../outputs/types.js'
import {toolVersion} from '../version.js'
import {ConcatStream, hashConcat, type ConcatSource, type ConcatState, type PreparedConcat} from '../outputs/concat.js'
import {jsonCards, jsonHead, jsonTail, tsvHeader, tsvLines} from './lists.js'
import {notetypeHash} from './notetype.js'
import {CardCache, type DeckCard, type RecordReader} from './card-cache.js'
import {DeckCase, mediaName, packageOf, planFile, type PlannedCard} from './plan.js'
import {removeStaleCollections, writeApkgTo, type EncodedNote, type MediaFile, type PackageInput} from './writer.js'

/**
 * `out/anki/`: one `.apkg` per package (`anki.packages`: the project, each
 * top-level folder, or each file), plus `cards.json` and `cards.tsv`. A package
 * whose sources and deck names are unchanged is not rewritten; the build warns when a
 * question's identity (its GUID) vanished and a new one took its place.
 */
export const ankiOutput: BuildOutput = {
  name: 'anki',
  write: writeAnki
}

const jsonPath = 'anki/cards.json'
const tsvPath = 'anki/cards.tsv'

interface WrittenFile extends OutputFile {
  /** Hash of everything the file was made from. */
  inputs: string
  /**
   * A package's deck names after case unification, hashed: another package's file can change them (a new spelling
   * met first) while this package's own inputs stay the same.
   */
  decks?: string
}

/** What the previous build wrote, handed back as `context.previous`. */
export interface AnkiState {
  version: 3
  files: Record<string, WrittenFile>
  /** `cards.json` and `cards.tsv` by source, to splice them (see `writeLists`). */
  lists: {json: ConcatState; tsv: ConcatState}
  /**
   * Per source: its cache key and its questions `[guid, slot, question, line]`, to notice reworded questions.
   * Megabytes at 10,000 files: kept in `.tagpress/anki-questions.json`, and only its digest in the build's state,
   * which every build (a stopped one too) writes again.
   */
  questions: {digest: string}
}

export type Questions = Record<string, {key: string; entries: Array<[string, string, string, number]>}>

let codeHash: string | undefined

/** The writer's own code (and the SQLite page writer's): a deck, or a note record cached, made by other code is never reused. */
function ownCode(): string {
  if (codeHash) return codeHash
  const hash = createHash('sha256').update(toolVersion).update(notetypeHash())
  const here = path.dirname(fileURLToPath(import.meta.url))
  for (const dir of [here, path.join(here, '..', 'sqlite')]) {
    for (const name of readdirSync(dir).sort()) if (name.endsWith('.js')) hash.update(name).update(readFileSync(path.join(dir, name)))
  }
  codeHash = hash.digest('hex')
  return codeHash
}

function readState(previous: unknown): AnkiState | undefined {
  const state = previous as AnkiState | undefined
  return state && state.version === 3 && state.files && state.lists?.json && state.lists.tsv && typeof state.questions?.digest === 'string' ? state : undefined
}

const questionsFile = 'anki-questions.json'

/** The previous build's questions, if the file is the one its state names (else no rewording warnings, nothing else). */
function readQuestions(stateDir: string, state: AnkiState): Questions | undefined {
  try {
    const text = readFileSync(path.join(stateDir, questionsFile), 'utf8')
    return digestOf(text) === state.questions.digest ? (JSON.parse(text) as Questions) : undefined
  } catch {
    return undefined
  }
}

function digestOf(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32)
}

async function writeAnki(context: OutputContext): Promise<OutputResult> {
  const {config, files} = context
  const previous = readState(context.previous)
  const settings = createHash('sha256')
    .update(ownCode())
    .update(JSON.stringify([config.anki, config.site.base, config.site.url ?? null]))
    .digest('hex')

  // Which files go into which package, and a hash of each package's inputs (cheap: no file is read).
  const members = new Map<string, PublishedFile[]>()
  for (const file of files) {
    if (file.meta.settings.anki === false || file.meta.counts.qa === 0) continue
    const pkg = packageOf(config, file.source, file.meta.fileId)
    const list = members.get(pkg)
    if (list) list.push(file)
    else members.set(pkg, [file])
  }
  const inputsOf = (list: readonly PublishedFile[]) => {
    const hash = createHash('sha256').update(settings)
    for (const file of list) {
      hash.update(JSON.stringify([file.source, file.key, file.time, file.meta.assets.map((asset) => [asset.output, asset.size])]))
    }
    return hash.digest('hex')
  }
  const packageInputs = new Map([...members].map(([pkg, list]) => [pkg, inputsOf(list)]))
  const listInputs = inputsOf([...members.values()].flat())

  const reusable = (file: string, inputs: string): WrittenFile | undefined => {
    const old = previous?.files[file]
    if (!old || old.inputs !== inputs) return undefined
    return statSync(path.join(config.out, file), {throwIfNoEntry: false})?.size === old.bytes ? old : undefined
  }

  // Nothing changed: every file is still there as written.
  const unchanged =
    previous !== undefined &&
    [...packageInputs].every(([pkg, inputs]) => reusable(pkg, inputs)) &&
    reusable(jsonPath, listInputs) !== undefined &&
    reusable(tsvPath, listInputs) !== undefined &&
    Object.keys(previous.files).length === packageInputs.size + 2
  if (unchanged) return {files: Object.values(previous.files).map(publicFile), state: previous}

  // The card lists are written (aside) as the cards are planned, unless they are unchanged.
  const oldJson = reusable(jsonPath, listInputs)
  const oldTsv = reusable(tsvPath, listInputs)
  const keepLists = oldJson !== undefined && oldTsv !== undefined && previous !== undefined
  const planned = planAll(context, members, settings, keepLists ? undefined : {previous: previous?.lists})
  // Nothing is in place yet: a newer edit may still have the next build write the deck.
  if (!planned || context.stopping?.()) {
    planned?.lists?.abort()
    return {files: [], stopped: true}
  }
  const {cards, lists} = planned
  const byPackage = new Map<string, DeckCard[]>()
  for (const card of cards) {
    const list = byPackage.get(card.package)
    if (list) list.push(card)
    else byPackage.set(card.package, [card])
  }
  const written: Record<string, WrittenFile> = {}
  // The lists and the questions file are written aside: renamed into place with the packages, or removed.
  let records: RecordReader | undefined
  let questions: ReturnType<typeof checkQuestions> | undefined
  try {
    records = planned.cache.reader()
    questions = checkQuestions(context, previous, cards)
    let savedAny = false
    removeStaleCollections(context.stateDir)
    for (const [pkg, list] of byPackage) {
      const inputs = packageInputs.get(pkg) as string
      const decks = createHash('sha256')
      for (const name of new Set(list.map((card) => card.deck))) decks.update(name + '\n')
      const decksHash = decks.digest('hex').slice(0, 32)
      const old = reusable(pkg, inputs)
      if (old && old.decks === decksHash) {
        written[pkg] = old
        continue
      }
      const media = loadMedia(config.out, list, context.warn)
      // A newer edit stops the deck mid-way, but only before the first package is saved: then the rest follow, so the decks never mix two builds.
      const reader = records
      const record = (card: EncodedNote): Uint8Array => reader.read(card as DeckCard)
      const file = await savePackage(config.out, pkg, {notes: list, media, record}, () => !savedAny && context.stopping?.() === true, context.stateDir)
      if (!file) {
        lists?.abort()
        questions.file.abort()
        return {files: [], stopped: true}
      }
      savedAny = true
      written[pkg] = {...file, records: list.length, inputs, decks: decksHash}
    }
  } catch (error) {
    lists?.abort()
    questions?.file.abort()
    throw error
  } finally {
    records?.close()
  }
  lists?.commit()
  questions.file.commit()
  const listStates = lists ? {json: lists.states.json as ConcatState, tsv: lists.states.tsv as ConcatState} : (previous as AnkiState).lists
  written[jsonPath] = oldJson ?? listFile(config.out, jsonPath, listStates.json, cards.length, listInputs)
  written[tsvPath] = oldTsv ?? listFile(config.out, tsvPath, listStates.tsv, cards.length, listInputs)

  // Packages of the previous build that no longer exist (a folder emptied, `anki.packages` changed).
  for (const file of Object.keys(previous?.files ?? {})) {
    if (!written[file] && file.startsWith('anki/') && file.endsWith('.apkg')) rmSync(path.join(config.out, file), {force: true})
  }

  const ordered = Object.keys(written).sort().map((file) => written[file] as WrittenFile)
  return {files: ordered.map(publicFile), state: {version: 3, files: Object.fromEntries(ordered.map((file) => [file.path, file])), lists: listStates, questions: {digest: questions.digest}}}
}

/**
 * Warns of reworded questions against the previous build's, and writes this build's aside (renamed into place with
 * the decks). Neither build's questions outlive the call: at 10,000 files they are ~45,000 small arrays each.
 */
function checkQuestions(context: OutputContext, previous: AnkiState | undefined, cards: readonly DeckCard[]): {file: AsideFile; digest: string} {
  const questions: Questions = {}
  const keys = new Map(context.files.map((file) => [file.source, file.key]))
  for (const card of cards) {
    const entry = (questions[card.source] ??= {key: keys.get(card.source) as string, entries: []})
    entry.entries.push([card.guid, card.slot, card.question.slice(0, 80), card.line])
  }
  const where = (source: string) => path.relative(process.cwd(), path.join(context.config.content, source)) || source
  const before = previous && readQuestions(context.stateDir, previous)
  if (before) for (const message of rewordings(before, questions, where)) context.warn(message)
  const text = Buffer.from(JSON.stringify(questions))
  const file = new AsideFile(path.join(context.stateDir, questionsFile))
  try {
    file.write(text)
  } catch (error) {
    file.abort()
    throw error
  }
  return {file, digest: digestOf(text)}
}

/**
 * Every package's cards in order, from the card cache where it still holds (else planned), with deck names unified as
 * they come; the cache is saved. With `lists`, the card lists are written aside at the same time. Undefined when a
 * newer edit waits (nothing is left written).
 */
function planAll(
  context: OutputContext,
  members: ReadonlyMap<string, readonly PublishedFile[]>,
  settings: string,
  lists: {previous: AnkiState['lists'] | undefined} | undefined
): {cards: DeckCard[]; cache: CardCache; lists: PreparedConcat | undefined} | undefined {
  // The card cache's forerunner (planned cards as JSON lines), which an older build of this version may have left.
  rmSync(path.join(context.stateDir, 'anki-plans.jsonl'), {force: true})
  const cache = new CardCache(path.join(context.stateDir, 'anki-cards.bin'), settings)
  let stream: ConcatStream | undefined
  try {
    stream = lists && listStream(context.config.out, settings, lists.previous)
    const deckCase = new DeckCase()
    const cards: DeckCard[] = []
    let withCards = 0
    let planned = 0
    for (const list of members.values()) {
      for (const file of list) {
        let whole: PlannedCard[] | undefined
        const fileCards = cache.cards(file, () => (whole = planFile(context.config, file)))
        deckCase.unify(fileCards)
        for (const card of fileCards) cards.push(card)
        if (fileCards.length > 0) stream?.add(listSource(context.config, settings, file, fileCards, withCards++ === 0, whole))
        // Every thousand files, give way to a newer edit (nothing is in place yet; the card cache stays as it was).
        if (++planned % 1000 === 0 && context.stopping?.()) {
          cache.abort()
          stream?.abort()
          return undefined
        }
      }
    }
    const empty = withCards === 0
    stream?.add(edge('\0tail', settings + (empty ? ':empty' : ''), {json: jsonTail(empty), tsv: ''}))
    cache.save()
    return {cards, cache, lists: stream?.prepare()}
  } catch (error) {
    cache.abort()
    stream?.abort()
    throw error
  }
}

/**
 * `cards.json` and `cards.tsv`, spliced like the datasets: a source whose cards are the same as last time keeps its
 * bytes (copied from the previous file), so an edit writes one source's lines instead of every card's (at 10,000
 * files, 64 MB of text made and held in memory).
 */
function listStream(out: string, settings: string, previous: AnkiState['lists'] | undefined): ConcatStream {
  const stream = new ConcatStream([
    {name: 'json', file: path.join(out, jsonPath), previous: previous?.json},
    {name: 'tsv', file: path.join(out, tsvPath), previous: previous?.tsv}
  ])
  stream.add(edge('\0head', settings, {json: jsonHead(), tsv: tsvHeader()}))
  return stream
}

function edge(source: string, key: string, parts: Record<string, string>): ConcatSource {
  return {source, key, include: () => true, parts: () => parts}
}

/**
 * A source's lines in the card lists. They follow from its plan (its compile and time, and the settings), the deck
 * names after case unification, and whether it holds the file's first card (no comma). Lines to write need the
 * whole cards: the ones just planned, or (a list file lost, a deck renamed by another file's spelling) the file
 * planned again.
 */
function listSource(config: Config, settings: string, file: PublishedFile, cards: readonly DeckCard[], first: boolean, whole: PlannedCard[] | undefined): ConcatSource {
  const key = createHash('sha256').update(settings).update(file.key).update(String(file.time)).update(first ? '1' : '0')
  for (const card of cards) key.update(card.deck + '\n')
  const parts = (): Record<string, string> => {
    const full = whole ?? planFile(config, file)
    // The deck names after case unification (the plan has them as the file spells them).
    full.forEach((card, at) => (card.deck = (cards[at] as DeckCard).deck))
    return {json: jsonCards(full, first), tsv: tsvLines(full)}
  }
  return {source: file.source, key: key.digest('hex').slice(0, 32), include: () => true, parts}
}

function listFile(out: string, file: string, state: ConcatState, records: number, inputs: string): WrittenFile {
  return {path: file, records, bytes: state.bytes, sha256: hashConcat(state, path.join(out, file)), inputs}
}

function publicFile(file: WrittenFile): OutputFile {
  return {path: file.path, records: file.records, bytes: file.bytes, sha256: file.sha256}
}

/** Writes a package aside part by part, hashing as it goes, then renames it over the old one; undefined if stopped. */
async function savePackage(out: string, file: string, input: PackageInput, stopping: () => boolean, tempDir: string): Promise<OutputFile | undefined> {
  const aside = new AsideFile(path.join(out, file))
  const hash = createHash('sha256')
  try {
    const bytes = await writeApkgTo(
      input,
      (part) => {
        aside.write(part)
        hash.update(part)
      },
      stopping,
      tempDir
    )
    if (bytes === undefined) {
      aside.abort()
      return undefined
    }
    aside.commit()
    return {path: file, records: input.notes.length, bytes, sha256: hash.digest('hex')}
  } catch (error) {
    aside.abort()
    throw error
  }
}

/** The images of a package's cards, from the site output (written before decks are). */
function loadMedia(out: string, cards: readonly DeckCard[], warn: (message: string) => void): MediaFile[] {
  const media = new Map<string, MediaFile>()
  for (const card of cards) {
    for (const {name, sitePath} of card.media) {
      if (media.has(name)) continue
      let decoded = sitePath
      try {
        decoded = decodeURIComponent(sitePath)
      } catch {
        // keep as written
      }
      try {
        media.set(name, {name, data: readFileSync(path.join(out, 'site', decoded))})
      } catch {
        warn(card.source + ':' + card.line + ': the image `' + sitePath + '` is missing from the site output, so the card shows no image')
      }
    }
  }
  return [...media.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/**
 * Questions whose GUID vanished while a new GUID appeared in the same place
 * (same section, same number): a reworded question without an explicit id.
 * Anki will add it as a new card; the old card stays with the review history.
 */
export function rewordings(before: Questions, after: Questions, where: (source: string) => string = (source) => source): string[] {
  const now = new Set<string>()
  for (const entry of Object.values(after)) for (const [guid] of entry.entries) now.add(guid)
  const then = new Set<string>()
  for (const entry of Object.values(before)) for (const [guid] of entry.entries) then.add(guid)
  const messages: string[] = []
  for (const [source, entry] of Object.entries(after)) {
    const old = before[source]
    if (!old || old.key === entry.key) continue
    const vanished = new Map<string, string>()
    for (const [guid, slot, question] of old.entries) if (!now.has(guid)) vanished.set(slot, question)
    for (const [guid, slot, question, line] of entry.entries) {
      const was = vanished.get(slot)
      if (was === undefined || then.has(guid)) continue
      messages.push(
        where(source) + ':' + line + ': the question "' + question + '" took the place of "' + was + '" with a new identity: ' +
          'Anki will add it as a new card, and the old card stays with its review history until you delete it. ' +
          'A question with an explicit id, like [/Q#' + suggestId(question) + ']…[Q/], keeps its card when reworded'
      )
    }
  }
  return messages
}

function suggestId(question: string): string {
  const words = question.toLowerCase().normalize('NFKD').replace(/[^a-z0-9\s-]/g, '').split(/\s+/).filter((word) => word.length > 0)
  return words.slice(0, 4).join('-') || 'my-question'
}

export {mediaName}
