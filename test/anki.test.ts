// The deck writer and reader on their own: identities, names, HTML for cards,
// the TSV, the package format, bad input and size. (Importing into the real
// Anki is in anki-import.test.ts.)
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {unzipSync, zipSync} from 'fflate'
import {afterAll, describe, expect, test} from 'vitest'
import type {CompiledDetail, CompiledMeta} from '../src/node/build/cache.js'
import type {QaInfo, SectionInfo} from '../src/node/compile/types.js'
import type {Config} from '../src/node/config/types.js'
import {decodeEntities, escapeHtml, htmlToText, rewriteCardHtml, stripHtml} from '../src/node/anki/html.js'
import {fieldChecksum, guidFor, idFromName} from '../src/node/anki/ids.js'
import {cardsTsv, tsvCell, tsvHeader} from '../src/node/anki/lists.js'
import {fieldNames, notetypeHash, notetypeId, notetypeJson, notetypeVersion} from '../src/node/anki/notetype.js'
import {ankiOutput, rewordings, type Questions} from '../src/node/anki/output.js'
import {ankiTag, deckComponent, fileSafe, fillInstruction, guidOf, mediaName, packageOf, planFile, tagsOf, unifyDeckCase, type PlannedCard} from '../src/node/anki/plan.js'
import {CardCache} from '../src/node/anki/card-cache.js'
import {readDeck, type DeckRecord} from '../src/node/anki/reader.js'
import {cardCss} from '../src/node/anki/style.js'
import {deckIds, decksJson, noteRecord, writeApkg, type DeckNote} from '../src/node/anki/writer.js'
import {UserError} from '../src/node/errors.js'
import type {PublishedFile} from '../src/node/outputs/types.js'

const dir = mkdtempSync(path.join(tmpdir(), 'tagpress-anki-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))
let counter = 0
const tmp = (name: string) => path.join(dir, String(counter++) + '-' + name)

async function records(file: string, options = {}): Promise<DeckRecord[]> {
  const out: DeckRecord[] = []
  for await (const record of readDeck(file, options)) out.push(record)
  return out
}

async function readError(file: string): Promise<string> {
  try {
    await records(file)
  } catch (error) {
    expect(error).toBeInstanceOf(UserError)
    return (error as Error).message
  }
  throw new Error('expected an error for ' + file)
}

function note(index: number, extra: Partial<DeckNote> = {}): DeckNote {
  return {
    guid: guidFor('test', index),
    fields: ['Chapter › Section · question ' + index, 'Question ' + index + '?', '', '<p>Answer <b>' + index + '</b></p>', 'file#1.' + index],
    tags: ['tagpress', 'file'],
    deck: 'Deck::Chapter::Section ' + (index % 3),
    mod: 1_700_000_000 + index,
    ...extra
  }
}

function config(anki: Partial<Config['anki']> = {}, site: Partial<Config['site']> = {}, out = tmp('out')): Config {
  return {
    root: dir,
    content: path.join(dir, 'content'),
    out,
    site: {title: 'Test', base: '/', lang: 'en', ...site},
    folders: {},
    anki: {deck: 'Deck', answerIntro: '', packages: 'project', ...anki}
  } as Config
}

function section(number: string, title: string, chapterTree: string[], parent: number, text = title): SectionInfo {
  return {number, level: chapterTree.length, title, text, anchor: title.toLowerCase(), chapterTree, slugPath: chapterTree.join('/').toLowerCase(), parent}
}

function qa(fileId: string, questionText: string, sectionIndex: number, extra: Partial<QaInfo> = {}): QaInfo {
  return {
    id: fileId + '#q-' + questionText.toLowerCase().replace(/\W+/g, '-'),
    anchor: 'q-x',
    question: questionText,
    answer: 'An answer.',
    questionText,
    section: sectionIndex,
    line: 10,
    questionHtml: escapeHtml(questionText),
    answerHtml: 'An answer.',
    media: [],
    ...extra
  }
}

function published(source: string, detail: CompiledDetail, meta: Partial<CompiledMeta> = {}, time = 1_700_000_000, key = 'k1'): PublishedFile {
  const fileId = source.replace(/\.md$/, '')
  return {
    source,
    key,
    time,
    meta: {fileId, source, hash: '', title: 'Page', description: '', settings: {}, anchors: [], links: [], assets: [], counts: {blocks: 0, chapters: 0, qa: detail.qa.length}, messages: [], ...meta} as unknown as CompiledMeta,
    detail: () => detail,
    parts: () => ({}) as ReturnType<PublishedFile['parts']>
  }
}

describe('identities', () => {
  test("GUIDs are genanki's guid_for, checksums Anki's field_checksum (vectors from genanki and Anki)", () => {
    expect(guidFor('hello')).toBe('hZ%+.BW-%^')
    expect(guidFor('ch1::q1')).toBe('MpTH}`eZqU')
    expect(guidFor('a', 'b')).toBe('q/([o$8RAO')
    expect(fieldChecksum('hello')).toBe(2868168221)
    expect(fieldChecksum('What is X?')).toBe(1529765592)
  })

  test('the note type id is derived from a fixed name and never changes', () => {
    expect(notetypeId).toBe(idFromName('tagpress/notetype/qa/v1'))
    expect(notetypeId).toBe(1822971147)
    expect(fieldNames).toEqual(['Instruction', 'Question', 'AnswerIntro', 'Answer', 'ParentRef'])
  })

  test('the note type mod changes exactly when its templates or CSS change', () => {
    // When this fails: set notetypeVersion.mod to the time of the change (`date +%s`) and sha256 to notetypeHash().
    expect({sha256: notetypeHash()}).toEqual({sha256: notetypeVersion.sha256})
    expect(notetypeVersion.mod).toBeLessThan(Date.now() / 1000 + 86400)
    const json = notetypeJson(1) as {sortf: number; flds: Array<{name: string; id: number}>; tmpls: Array<{name: string}>; mod: number}
    expect(json.sortf).toBe(1)
    expect(json.mod).toBe(notetypeVersion.mod)
    expect(json.flds.map((field) => field.name)).toEqual([...fieldNames])
    expect(new Set(json.flds.map((field) => field.id)).size).toBe(5)
  })

  test('a GUID comes from the explicit id or the file and question text, never the position', () => {
    const plain = guidOf('Deck', 'guide/intro', {questionText: 'What is it?'}, 1)
    expect(guidOf('Deck', 'guide/intro', {questionText: '  What   is it? '}, 1)).toBe(plain)
    expect(guidOf('Deck', 'guide/intro', {questionText: 'What is it?'}, 2)).not.toBe(plain)
    expect(guidOf('Deck', 'guide/other', {questionText: 'What is it?'}, 1)).not.toBe(plain)
    expect(guidOf('Other deck', 'guide/intro', {questionText: 'What is it?'}, 1)).not.toBe(plain)
    const byId = guidOf('Deck', 'guide/intro', {questionText: 'What is it?', explicitId: 'what'}, 1)
    expect(guidOf('Deck', 'guide/intro', {questionText: 'Reworded completely', explicitId: 'what'}, 1)).toBe(byId)
    expect(byId).not.toBe(plain)
  })

  test('deck ids are stable per name, unique, never the Default deck', () => {
    const ids = deckIds(['A::B::C', 'A::D'])
    expect([...ids.keys()].sort()).toEqual(['A', 'A::B', 'A::B::C', 'A::D'])
    expect(new Set(ids.values()).size).toBe(4)
    expect([...ids.values()].every((id) => id >= 2 ** 30 && id < 2 ** 31 + 10)).toBe(true)
    expect(deckIds(['A::D']).get('A::D')).toBe(ids.get('A::D'))
  })

  test('the decks column is each deck\'s schema-11 JSON by id, as JSON.stringify would write the objects', () => {
    const names = ['Guide', 'Guide::Setup "quoted"', 'Guide::Back\\slash::Ünïcödé 日本', 'Guide::Tab\tand\u2028line', 'Emoji 🎴']
    const ids = deckIds(names)
    // The fields and their order as rslib's NormalDeckSchema11 and genanki write them.
    const deck = (id: number, name: string, mod: number) => ({
      collapsed: false, browserCollapsed: false, conf: 1, desc: '', dyn: 0, extendNew: 0, extendRev: 0, id,
      lrnToday: [0, 0], mod, name, newToday: [0, 0], revToday: [0, 0], timeToday: [0, 0], usn: -1
    })
    const expected: Record<string, unknown> = {'1': deck(1, 'Default', 0)}
    for (const [name, id] of ids) expected[String(id)] = deck(id, name, 1700000000)
    const text = decksJson(ids, 1700000000).toString('utf8')
    expect(text).toBe(JSON.stringify(expected))
    const parsed = JSON.parse(text) as Record<string, {name: string; id: number}>
    expect(Object.keys(parsed).map(Number)).toEqual([1, ...[...ids.values()].sort((a, b) => a - b)])
    expect(parsed[String(ids.get('Guide::Back\\slash::Ünïcödé 日本'))]?.name).toBe('Guide::Back\\slash::Ünïcödé 日本')
  })
})

describe('names, tags and HTML', () => {
  test('deck names and tags follow Anki rules', () => {
    expect(deckComponent('  Setup :: more  ')).toBe('Setup : more')
    expect(deckComponent('')).toBe('blank')
    expect(deckComponent('a\u0007b')).toBe('ab')
    expect(ankiTag('getting started')).toBe('getting_started')
    expect(ankiTag('  ')).toBeUndefined()
    expect(ankiTag('a::b c::')).toBe('a::b_c')
    expect(tagsOf('guide/intro', ['Setup', 'setup', 'two words'])).toEqual(['guide::intro', 'Setup', 'tagpress', 'two_words'])
    expect(tagsOf('faq', 'faq, help')).toEqual(['faq', 'help', 'tagpress'])
    expect(tagsOf('x', undefined)).toEqual(['tagpress', 'x'])
  })

  test('decks that differ only in case become one (Anki compares deck names without case)', () => {
    const cards = ['D::Setup::Install', 'D::setup::Run', 'D::SETUP::install', 'D::Other'].map((deck) => ({deck}) as PlannedCard)
    unifyDeckCase(cards)
    expect(cards.map((card) => card.deck)).toEqual(['D::Setup::Install', 'D::Setup::Run', 'D::Setup::Install', 'D::Other'])
  })

  test('instruction templates, file names and packages', () => {
    const values = {path: 'A › B', section: 'B', page: 'A', n: 2, file: 'f', chapter_id: '1.1', deck: 'D::A::B'}
    expect(fillInstruction('{path} · question {n}', values)).toBe('A › B · question 2')
    expect(fillInstruction('Answer {n} of "{section}" in {page} ({file}#{chapter_id}, {deck}) {unknown}', values)).toBe('Answer 2 of "B" in A (f#1.1, D::A::B) {unknown}')
    expect(fileSafe('My docs: 2/2')).toBe('My-docs-2-2')
    expect(fileSafe('Ünïcode 日本')).toBe('Ünïcode-日本')
    expect(packageOf(config(), 'guide/intro.md', 'guide/intro')).toBe('anki/Deck.apkg')
    expect(packageOf(config({packages: 'folder'}), 'guide/intro.md', 'guide/intro')).toBe('anki/Deck/guide.apkg')
    expect(packageOf(config({packages: 'folder'}), 'index.md', 'index')).toBe('anki/Deck.apkg')
    expect(packageOf(config({packages: 'file'}), 'guide/intro.md', 'guide/intro')).toBe('anki/Deck/guide/intro.apkg')
    expect(mediaName('assets/my%20logo.1a2b3c4d.svg')).toBe('my-logo.1a2b3c4d.svg')
  })

  test('card HTML: site images become media names, site links absolute or plain text', () => {
    const html = '<p><img src="/docs/assets/logo.12345678.svg" alt="Logo"> <img src="https://x.org/a.png"> <a href="/docs/guide/a.html#b">A</a> <a href="#here">here</a> <a href="https://x.org">x</a></p>'
    const media = (site: string) => (site === 'assets/logo.12345678.svg' ? 'logo.12345678.svg' : undefined)
    const withUrl = rewriteCardHtml(html, {base: '/docs/', url: 'https://example.com/docs/', page: 'guide/intro.html', media})
    expect(withUrl).toBe('<p><img src="logo.12345678.svg" alt="Logo"> <img src="https://x.org/a.png"> <a href="https://example.com/docs/guide/a.html#b">A</a> <a href="https://example.com/docs/guide/intro.html#here">here</a> <a href="https://x.org">x</a></p>')
    const without = rewriteCardHtml(html, {base: '/docs/', page: 'guide/intro.html', media})
    expect(without).toContain('<span class="tp-link">A</span> <span class="tp-link">here</span> <a href="https://x.org">x</a>')
  })

  test("stripping follows Anki's rules (media names kept, entities decoded)", () => {
    expect(stripHtml('<b>Bold</b> &amp; <img src="x.png"> &#x3C;tag&#x3E;&nbsp;!')).toBe('Bold &  x.png  <tag> !')
    expect(decodeEntities('&lt;&#60;&#x3c;&unknown;')).toBe('<<<&unknown;')
    expect(htmlToText('<p>One</p>\n<ul>\n<li>a</li>\n<li>b <code>&lt;x&gt;</code></li>\n</ul><img src="p.png" alt="Pic">')).toBe('One\n\na\n\nb <x>\n\n[Pic]')
  })

  test('TSV cells are quoted when Anki would misread them', () => {
    expect(tsvCell('plain <b>html</b>')).toBe('plain <b>html</b>')
    expect(tsvCell('<a href="x">a</a>')).toBe('"<a href=""x"">a</a>"')
    expect(tsvCell('two\nlines')).toBe('"two\nlines"')
    expect(tsvCell('tab\there')).toBe('"tab\there"')
    expect(tsvCell('#not a comment')).toBe('"#not a comment"')
    expect(tsvHeader()).toBe('#separator:tab\n#html:true\n#notetype:tagpress Q&A\n#deck column:6\n#tags column:7\n#guid column:8\n#if matches:update current\n#columns:Instruction\tQuestion\tAnswerIntro\tAnswer\tParentRef\tDeck\tTags\tGUID\n')
    const card = {fields: {Instruction: 'I', Question: 'Q', AnswerIntro: '', Answer: 'A\nB', ParentRef: 'f#1'}, deck: 'D::E', tags: ['a', 'b'], guid: 'x#y'} as unknown as PlannedCard
    expect(cardsTsv([card]).split('\n').slice(8).join('\n')).toBe('I\tQ\t\t"A\nB"\tf#1\tD::E\ta b\tx#y\n')
  })

  test('the CSS colours every token class the highlighter writes, in light and night mode', () => {
    const tokens = readFileSync(new URL('../site/styles/code-tokens.css', import.meta.url), 'utf8')
    const classes = new Set(tokens.match(/\.sk-[a-z-]+/g))
    expect(classes.size).toBeGreaterThan(10)
    for (const name of classes) expect(cardCss, name).toContain(name)
    const variables = new Set(tokens.match(/--tp-(?:code|ansi)-[a-z-]+/g))
    for (const name of variables) expect(cardCss.split(name + ':').length - 1, name).toBe(2)
    expect(cardCss).toContain('.card.nightMode')
    expect(cardCss).toContain('.night_mode .card')
    expect(cardCss).not.toMatch(/<script|@import|url\(/)
  })
})

describe('planning cards from compiled files', () => {
  const sections = [
    section('1', 'Guide', ['Guide'], -1),
    section('1.1', 'Install', ['Guide', 'Install'], 0),
    section('1.2', 'Is it free?', ['Guide', 'Is it free?'], 0)
  ]
  const detail: CompiledDetail = {
    sections,
    code: [],
    qa: [
      qa('guide', 'Before any heading?', -1),
      qa('guide', 'How do I install it?', 1, {answerHtml: '<img src="/assets/shot.0badf00d.png" alt="">', media: ['assets/shot.0badf00d.png']}),
      qa('guide', 'Which Node.js?', 1, {explicitId: 'node'}),
      qa('guide', 'How do I install it?', 1),
      qa('guide', 'Is it free?', 2)
    ]
  }

  test('fields, decks, numbers, ParentRef, tags and media', () => {
    const cards = planFile(config({answerIntro: 'By <me>:'}), published('guide.md', detail, {title: 'The guide', settings: {tags: ['setup']}}))
    expect(cards.map((card) => card.deck)).toEqual(['Deck::The guide', 'Deck::Guide::Install', 'Deck::Guide::Install', 'Deck::Guide::Install', 'Deck::Guide'])
    expect(cards.map((card) => card.fields.Instruction)).toEqual(['The guide · question 1', 'Guide › Install · question 1', 'Guide › Install · question 2', 'Guide › Install · question 3', 'Guide · question 1'])
    expect(cards.map((card) => card.fields.ParentRef)).toEqual(['guide#0', 'guide#1.1', 'guide#1.1', 'guide#1.1', 'guide#1.2'])
    expect(cards[0]?.fields.AnswerIntro).toBe('By &lt;me&gt;:')
    expect(cards[1]?.fields.Answer).toBe('<img src="shot.0badf00d.png" alt="">')
    expect(cards[1]?.media).toEqual([{name: 'shot.0badf00d.png', sitePath: 'assets/shot.0badf00d.png'}])
    expect(cards[0]?.tags).toEqual(['guide', 'setup', 'tagpress'])
    expect(new Set(cards.map((card) => card.guid)).size).toBe(5)
    expect(cards.every((card) => card.mod === 1_700_000_000 && card.package === 'anki/Deck.apkg')).toBe(true)
  })

  test('inserting a question moves no GUID; a custom instruction fills its placeholders', () => {
    const before = planFile(config(), published('guide.md', detail)).map((card) => card.guid)
    const inserted = {...detail, qa: [qa('guide', 'A new first question?', 1), ...detail.qa]}
    const after = planFile(config(), published('guide.md', inserted)).map((card) => card.guid)
    expect(after.slice(1)).toEqual(before)
    const custom = planFile(config({instruction: 'Answer briefly ({section}, {n})'}), published('guide.md', detail))
    expect(custom[2]?.fields.Instruction).toBe('Answer briefly (Install, 2)')
  })

  test('`anki: false` leaves a file out', () => {
    expect(planFile(config(), published('guide.md', detail, {settings: {anki: false}}))).toEqual([])
  })

  test('a reworded question is reported with its place and an id to use', () => {
    const before: Questions = {'a.md': {key: 'k1', entries: [['g1', 'a/b#1', 'Old text?', 3], ['g2', 'a/b#2', 'Kept?', 5], ['g3', 'a/b#3', 'Deleted?', 7]]}}
    const after: Questions = {'a.md': {key: 'k2', entries: [['g4', 'a/b#1', 'New text here?', 3], ['g2', 'a/b#2', 'Kept?', 5]]}}
    const messages = rewordings(before, after, (source) => 'content/' + source)
    expect(messages).toEqual([expect.stringMatching(/^content\/a\.md:3: the question "New text here\?" took the place of "Old text\?" with a new identity: .*\[\/Q#new-text-here\]…\[Q\/\]/)])
    expect(rewordings(before, {'a.md': {...after['a.md']!, key: 'k1'}})).toEqual([])
  })
})

describe('the card cache', () => {
  // A planned card as `planFile` makes it: only what the cache keeps, and the fields its note record holds.
  const card = (source: string, question: string, extra: Partial<PlannedCard> = {}): PlannedCard => ({
    id: source + '#q', guid: guidFor(source, question), source, line: 3, package: 'anki/deck.apkg', deck: 'Deck::' + source, tags: ['tagpress'],
    fields: {Instruction: 'i', Question: question, AnswerIntro: '', Answer: '<p>Answer to ' + question + '</p>', ParentRef: source + '#1'},
    media: [], mod: 5, slot: 'top#1', question, checksum: fieldChecksum('i'), ...extra
  })
  const published = (source: string, key: string) => ({source, key, time: 5}) as unknown as PublishedFile
  const recordOf = (planned: PlannedCard) => noteRecord({guid: planned.guid, fields: fieldNames.map((name) => planned.fields[name]), tags: planned.tags, deck: planned.deck, mod: planned.mod, checksum: planned.checksum})

  /** One build's use of the cache: each source's cards (planning the ones it must), then every record read back. */
  function run(file: string, settings: string, sources: Array<[string, string, PlannedCard[]]>) {
    const planned: string[] = []
    const cache = new CardCache(file, settings)
    const cards = sources.map(([source, key, plan]) => cache.cards(published(source, key), () => (planned.push(source), plan)))
    cache.save()
    const reader = cache.reader()
    const records = cards.map((list) => list.map((item) => Buffer.from(reader.read(item)).toString('hex')))
    reader.close()
    return {planned, cards, records}
  }

  test('reuses the entries of unchanged sources, plans the rest, and reads every record back as the writer would make it', () => {
    const file = tmp('cards.bin')
    const wide = card('a.md', 'Chapter › Été ✓', {media: [{name: 'p.png', sitePath: 'assets/p.png'}]})
    const b = [card('b.md', 'B?'), card('b.md', 'B again?', {deck: 'Deck::b.md::Other'})]
    const first = run(file, 'settings', [['a.md', 'k1', [wide]], ['b.md', 'k2', b], ['c.md', 'k3', [card('c.md', 'C?')]]])
    expect(first.planned).toEqual(['a.md', 'b.md', 'c.md'])
    expect(first.records).toEqual([[recordOf(wide).toString('hex')], b.map((item) => recordOf(item).toString('hex')), [recordOf(card('c.md', 'C?')).toString('hex')]])
    expect(first.cards[0]?.[0]).toMatchObject({guid: wide.guid, source: 'a.md', line: 3, package: 'anki/deck.apkg', deck: 'Deck::a.md', media: wide.media, mod: 5, slot: 'top#1', question: 'Chapter › Été ✓', checksum: wide.checksum})
    expect(first.cards[1]?.map((item) => item.deck)).toEqual(['Deck::b.md', 'Deck::b.md::Other'])
    // b.md changed (key k2 → k4), c.md is gone, d.md is new: only b.md and d.md are planned; a.md reads the same.
    const second = run(file, 'settings', [['a.md', 'k1', [card('a.md', 'never planned')]], ['b.md', 'k4', [card('b.md', 'B changed?')]], ['d.md', 'k5', [card('d.md', 'D?')]]])
    expect(second.planned).toEqual(['b.md', 'd.md'])
    expect(second.cards[0]).toEqual(first.cards[0]?.map((item) => ({...item, recordAt: expect.any(Number)})))
    expect(second.records).toEqual([first.records[0], [recordOf(card('b.md', 'B changed?')).toString('hex')], [recordOf(card('d.md', 'D?')).toString('hex')]])
    // Other settings: nothing is reused.
    expect(run(file, 'other settings', [['a.md', 'k1', [wide]]]).planned).toEqual(['a.md'])
  })

  test('a damaged entry, a file cut short or a foreign file costs planning again, never a wrong card', () => {
    const file = tmp('cards.bin')
    const sources = (): Array<[string, string, PlannedCard[]]> => [['a.md', 'k1', [card('a.md', 'A?')]], ['b.md', 'k2', [card('b.md', 'B?')]]]
    const good = run(file, 'settings', sources())
    const bytes = readFileSync(file)
    // One byte of b.md's record changed: its CRC-32 no longer holds, so b.md is planned again; a.md is still reused.
    const flipped = Buffer.from(bytes)
    const at = flipped.lastIndexOf(Buffer.from('B?'))
    flipped[at] = 'X'.charCodeAt(0)
    writeFileSync(file, flipped)
    const afterFlip = run(file, 'settings', sources())
    expect(afterFlip.planned).toEqual(['b.md'])
    expect(afterFlip.records).toEqual(good.records)
    // Cut short in the middle of an entry: nothing is trusted.
    writeFileSync(file, bytes.subarray(0, bytes.length - 10))
    expect(run(file, 'settings', sources()).planned).toEqual(['a.md', 'b.md'])
    writeFileSync(file, 'not a card cache')
    expect(run(file, 'settings', sources())).toEqual(good)
  })

  test('a stopped build keeps the old file', () => {
    const file = tmp('cards.bin')
    run(file, 'settings', [['a.md', 'k1', [card('a.md', 'A?')]]])
    const before = readFileSync(file)
    const cache = new CardCache(file, 'settings')
    cache.cards(published('a.md', 'k2'), () => [card('a.md', 'Changed?')])
    cache.abort()
    expect(readFileSync(file).equals(before)).toBe(true)
    expect(readdirSync(path.dirname(file)).filter((name) => name.startsWith(path.basename(file)) && name !== path.basename(file))).toEqual([])
  })
})

describe('the writer and the reader', () => {
  test('a note given as its encoded record (from the card cache) makes the same package as the note itself', async () => {
    // A sort field that reads as a number too: the record holds it as SQLite would.
    const notes = [note(1), note(2, {fields: ['42', 'Q', '', 'A', 'f#2']}), note(3)]
    const direct = await writeApkg({notes, media: []})
    const records = notes.map((item) => noteRecord(item))
    // Mixed: the second note as itself, the others encoded.
    const mixed = notes.map((item, index) => (index === 1 ? item : {deck: item.deck, mod: item.mod, checksum: fieldChecksum(stripHtml(item.fields[0] as string)), index}))
    const asked: number[] = []
    const encoded = await writeApkg({
      notes: mixed,
      media: [],
      record: (item) => {
        const index = (item as {index: number}).index
        asked.push(index)
        return records[index] as Uint8Array
      }
    })
    expect(asked).toEqual([0, 2])
    expect(Buffer.from(encoded).equals(Buffer.from(direct))).toBe(true)
  })

  test('same notes, same bytes; the zip holds the collection, the media map and the media', async () => {
    const notes = [note(1), note(2, {fields: ['#first', 'Tabs\tand\nlines', 'intro', '<img src="a.png">', 'f#0']})]
    const media = [{name: 'a.png', data: new Uint8Array([137, 80, 78, 71])}]
    const a = await writeApkg({notes, media})
    const b = await writeApkg({notes, media})
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true)
    const entries = unzipSync(a)
    expect(Object.keys(entries).sort()).toEqual(['0', 'collection.anki2', 'media'])
    expect(JSON.parse(new TextDecoder().decode(entries.media))).toEqual({'0': 'a.png'})
    const file = tmp('deck.apkg')
    writeFileSync(file, a)
    const read = await records(file)
    expect(read.map((record) => [record.instruction, record.question, record.answer_intro, record.answer, record.parent_ref, record.deck, record.tags, record.guid])).toEqual(
      notes.map((item) => [...item.fields, item.deck, item.tags, item.guid])
    )
    expect(read[0]?.notetype).toBe('tagpress Q&A')
    expect(read[0]?.fields).toBeUndefined()
  })

  test('stops between notes when asked to (a newer edit in `tagpress dev`), and writes the same bytes when never asked', async () => {
    const notes = Array.from({length: 100}, (_, index) => note(index + 1))
    const whole = await writeApkg({notes, media: []})
    let asked = 0
    expect(await writeApkg({notes, media: []}, () => ++asked > 2)).toBeUndefined()
    // Asked before the first note and every 32 notes: the third question comes before note 65, not at the end.
    expect(asked).toBe(3)
    const never = await writeApkg({notes, media: []}, () => false)
    expect(Buffer.from(never as Uint8Array).equals(Buffer.from(whole))).toBe(true)
    // Every note read back, in order.
    const file = tmp('hundred.apkg')
    writeFileSync(file, whole)
    expect((await records(file)).map((record) => record.guid)).toEqual(notes.map((item) => item.guid))
  })

  test('an empty deck reads as no records', async () => {
    const file = tmp('empty.apkg')
    writeFileSync(file, await writeApkg({notes: [], media: []}))
    expect(await records(file)).toEqual([])
  })

  test('bad input gives one clear sentence, never a crash', async () => {
    const junk = tmp('junk.apkg')
    writeFileSync(junk, 'this is not a zip file at all, just some text that goes on')
    expect(await readError(junk)).toMatch(/^Cannot read `.*junk\.apkg` as an Anki deck: it is not a zip file \(an \.apkg is a zip file\)$/)
    const empty = tmp('zero.apkg')
    writeFileSync(empty, '')
    expect(await readError(empty)).toMatch(/it is not a zip file/)
    const other = tmp('other.apkg')
    writeFileSync(other, zipSync({'readme.txt': new TextEncoder().encode('hello')}))
    expect(await readError(other)).toMatch(/it holds no Anki collection \(collection\.anki2, collection\.anki21 or collection\.anki21b\); it holds `readme\.txt`$/)
    const notSqlite = tmp('notsqlite.apkg')
    writeFileSync(notSqlite, zipSync({'collection.anki2': new TextEncoder().encode('SQLite format 3? no, just text that is long enough to look like a header '.repeat(100))}))
    expect(await readError(notSqlite)).toMatch(/its collection is not a readable SQLite database \(file is not a database\)$/)
    const good = await writeApkg({notes: [note(1), note(2)], media: []})
    const truncated = tmp('truncated.apkg')
    writeFileSync(truncated, good.subarray(0, Math.floor(good.length / 2)))
    expect(await readError(truncated)).toMatch(/it is not a zip file|truncated|damaged/)
    // Flip a byte inside the compressed collection: the CRC (or inflate) catches it.
    const damaged = Buffer.from(good)
    damaged[200] = damaged[200]! ^ 0xff
    const flipped = tmp('flipped.apkg')
    writeFileSync(flipped, damaged)
    expect(await readError(flipped)).toMatch(/collection\.anki2` is damaged|not a readable SQLite database/)
    expect(await readError(path.join(dir, 'missing.apkg'))).toMatch(/^No such file: /)
    const folder = tmp('folder.apkg')
    mkdirSync(folder)
    expect(await readError(folder)).toMatch(/is a folder/)
    // A SQLite database that is not an Anki collection.
    const {sqlite} = await import('../src/node/anki/sqlite.js')
    const SQL = await sqlite()
    const db = new SQL.Database()
    db.run('CREATE TABLE t (x)')
    const plain = tmp('plain.apkg')
    writeFileSync(plain, zipSync({'collection.anki2': db.export()}))
    db.close()
    expect(await readError(plain)).toMatch(/its database is not an Anki collection/)
    const latest = tmp('latest.apkg')
    writeFileSync(latest, zipSync({meta: new Uint8Array([8, 3]), 'collection.anki21b': new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3]), 'collection.anki2': good}))
    expect(await readError(latest)).toMatch(/collection\.anki21b/)
  })

  test('the collection is whole pages and sound, with a small note and with fields larger than a page (overflow pages)', async () => {
    const {sqlite} = await import('../src/node/anki/sqlite.js')
    const SQL = await sqlite()
    const big = '<p>' + 'ünïcödé › text '.repeat(600) + '</p>'
    for (const notes of [[note(1)], Array.from({length: 300}, (_, index) => note(index, index % 7 === 0 ? {fields: ['I', 'Q' + index, '', big, 'f']} : {}))]) {
      const collection = unzipSync(await writeApkg({notes, media: []}))['collection.anki2'] as Uint8Array
      const db = new SQL.Database(collection)
      try {
        const [pages, size] = [db.exec('PRAGMA page_count')[0]?.values[0]?.[0], db.exec('PRAGMA page_size')[0]?.values[0]?.[0]]
        expect(collection.length).toBe(Number(pages) * Number(size))
        expect(db.exec('PRAGMA integrity_check')[0]?.values[0]?.[0]).toBe('ok')
        expect(db.exec('SELECT count(*), sum(length(flds)) FROM notes')[0]?.values[0]).toEqual([notes.length, notes.reduce((sum, item) => sum + item.fields.join('\x1f').length, 0)])
      } finally {
        db.close()
      }
    }
  })

  test('10,000 cards write and read back', async () => {
    const notes = Array.from({length: 10_000}, (_, index) => note(index, {fields: ['I' + index, 'Q' + index + ' <code>x &lt; y</code>', '', '<div class="tp-code"><pre class="shiki"><code><span class="line"><span class="sk-keyword">const</span> x = ' + index + '</span></code></pre></div>', 'f#' + index]}))
    const bytes = await writeApkg({notes, media: []})
    const file = tmp('big.apkg')
    writeFileSync(file, bytes)
    let count = 0
    let last: DeckRecord | undefined
    for await (const record of readDeck(file)) {
      count++
      last = record
    }
    expect(count).toBe(10_000)
    expect(last?.question).toBe('Q9999 <code>x &lt; y</code>')
  })
})

describe('the build output', () => {
  const detail = (questions: string[]): CompiledDetail => ({sections: [section('1', 'Guide', ['Guide'], -1)], code: [], qa: questions.map((text) => qa('guide', text, 0))})

  test('writes the package and the lists, reuses them when nothing changed, removes packages that are gone', async () => {
    const out = tmp('out')
    const warnings: string[] = []
    const context = (files: PublishedFile[], previous: unknown, anki: Partial<Config['anki']> = {}) => ({
      config: config(anki, {}, out), stateDir: out, buildId: 'b', files, progress: {} as never, previous, warn: (message: string) => warnings.push(message)
    })
    // Collection files left by a process killed mid-deck (no such pid), by one that runs (this one's parent), and by
    // one that runs but wrote it two hours ago (in a container, a killed build's pid 1 is the next build's too).
    mkdirSync(out, {recursive: true})
    const stale = path.join(out, 'collection-' + (2 ** 30 + 7) + '-0a1b.anki2')
    const live = path.join(out, 'collection-' + process.ppid + '-0a1c.anki2')
    const old = path.join(out, 'collection-' + process.pid + '-0a1d.anki2')
    for (const file of [stale, live, old]) writeFileSync(file, 'half a collection')
    utimesSync(old, new Date(Date.now() - 2 * 3600_000), new Date(Date.now() - 2 * 3600_000))
    const first = await ankiOutput.write(context([published('guide.md', detail(['One?', 'Two?']))], undefined))
    expect(first.files.map((file) => [file.path, file.records])).toEqual([['anki/Deck.apkg', 2], ['anki/cards.json', 2], ['anki/cards.tsv', 2]])
    expect([existsSync(stale), existsSync(live), existsSync(old)]).toEqual([false, true, false])
    // Its own temporary collection is gone once the deck is written.
    expect(readdirSync(out).filter((name) => name.endsWith('.anki2'))).toEqual([path.basename(live)])
    const deck = path.join(out, 'anki/Deck.apkg')
    const written = statSync(deck).mtimeMs
    const again = await ankiOutput.write(context([published('guide.md', detail(['One?', 'Two?']))], first.state))
    expect(again.files).toEqual(first.files)
    expect(statSync(deck).mtimeMs).toBe(written)
    const json = JSON.parse(readFileSync(path.join(out, 'anki/cards.json'), 'utf8'))
    expect(json.notetype.fields).toEqual([...fieldNames])
    expect(json.cards[0]).toMatchObject({id: 'guide#q-one-', source: 'guide.md', package: 'anki/Deck.apkg', deck: 'Deck::Guide', question: 'One?', parent_ref: 'guide#1'})

    // Reword a question: the build warns; switch to one package per file: the old package goes.
    const reworded = await ankiOutput.write(context([published('guide.md', detail(['One?', 'Second?']), {}, 1_700_000_100, 'k2')], first.state, {packages: 'file'}))
    expect(warnings).toEqual([expect.stringMatching(/guide\.md:10: the question "Second\?" took the place of "Two\?"/)])
    expect(reworded.files.map((file) => file.path)).toEqual(['anki/Deck/guide.apkg', 'anki/cards.json', 'anki/cards.tsv'])
    expect(statSync(deck, {throwIfNoEntry: false})).toBeUndefined()
  })

  test('every note\'s checksum is Anki\'s (the stripped first field), for cards planned now and cards from the plan cache', async () => {
    const out = tmp('out')
    const context = (files: PublishedFile[], previous: unknown) => ({
      config: config({}, {}, out), stateDir: out, buildId: 'b', files, progress: {} as never, previous, warn: () => undefined
    })
    const first = await ankiOutput.write(context([published('a.md', detail(['One?', 'Two?'])), published('b.md', detail(['Three?']))], undefined))
    // b.md changes: the deck is written again, a.md's cards from the plan cache.
    await ankiOutput.write(context([published('a.md', detail(['One?', 'Two?'])), published('b.md', detail(['Four?']), {}, 1_700_000_100, 'k2')], first.state))
    const {sqlite} = await import('../src/node/anki/sqlite.js')
    const SQL = await sqlite()
    const db = new SQL.Database(unzipSync(readFileSync(path.join(out, 'anki/Deck.apkg')))['collection.anki2'] as Uint8Array)
    try {
      const rows = db.exec('SELECT flds, csum FROM notes ORDER BY id')[0]?.values ?? []
      expect(rows).toHaveLength(3)
      for (const [flds, csum] of rows) expect(csum).toBe(fieldChecksum(stripHtml(String(flds).split('\x1f')[0] as string)))
    } finally {
      db.close()
    }
  })
})
