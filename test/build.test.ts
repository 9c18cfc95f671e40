import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {Project} from './helpers/project.js'
import {BuildCache, partNames} from '../src/node/build/cache.js'

const spec = readFileSync(new URL('./fixtures/spec-example.md', import.meta.url), 'utf8')
const projects: Project[] = []
function project(files: Record<string, string>): Project {
  const created = new Project(files)
  projects.push(created)
  return created
}
afterAll(() => {
  for (const created of projects) created.dispose()
})

/** What the builds so far left in `out/` equals what a build from nothing (no `out/`, no `.tagpress/`) writes. */
function expectSameAsCleanBuild(p: Project): void {
  const incremental = p.snapshot()
  p.clean('out')
  p.clean('.tagpress')
  p.build()
  expect(incremental).toEqual(p.snapshot())
}

const site = {
  'index.md': '---\ntitle: Home\n---\n# Home\n\nStart with [the intro](guide/intro.md#block-reader-explanation).\n',
  'guide/intro.md': spec,
  'guide/more.md': '# More\n\n[/Q]Is there more?[Q/] [/A]Yes.[A/] [/BLOCKREAD/]\n',
  'notes/draft.md': '---\ndraft: true\n---\n# Draft\n\nNot yet.\n',
  'private/secret.md': '---\ndatasets: false\n---\n# Secret\n\n[/Q]Hidden?[Q/] [/A]From datasets.[A/] [/BLOCKREAD/]\n'
}

describe('tagpress build', () => {
  it("runs as the README says: `npm run build` builds the example content/ (npm links no package's own bin)", () => {
    const out = mkdtempSync(path.join(tmpdir(), 'tagpress-npm-build-'))
    try {
      const result = spawnSync('npm', ['run', '--silent', 'build', '--', '--out', out], {cwd: path.join(import.meta.dirname, '..'), encoding: 'utf8', env: {...process.env, CI: 'true'}})
      expect(result.status, result.stderr).toBe(0)
      expect(existsSync(path.join(out, 'manifest.json'))).toBe(true)
      expect(existsSync(path.join(out, 'site', 'index.html'))).toBe(true)
    } finally {
      rmSync(out, {recursive: true, force: true})
    }
  })

  it('writes the site, the datasets and a manifest', () => {
    const p = project(site)
    const {status, stats} = p.build()
    expect(status).toBe(0)
    expect(stats).toMatchObject({files: 5, compiled: 5, errors: 0, pages: 4, records: {blocks: 8 + 2, chapters: 1, qa: 3}})
    const manifest = JSON.parse(p.read('out/manifest.json'))
    expect(Object.keys(manifest.outputs).slice(0, 5)).toEqual(['site', 'datasets/blocks.jsonl', 'datasets/chapters.jsonl', 'datasets/qa.jsonl', 'site/search-index.jsonl'])
    // Later outputs (decks, LitGPT corpora, trees) follow, each with its hash.
    expect(Object.keys(manifest.outputs)).toEqual(expect.arrayContaining(['anki/cards.json', 'mongo/nodes.jsonl', 'datasets/litgpt/qa/train.jsonl']))
    expect(manifest.outputs['datasets/qa.jsonl'].records).toBe(3)
    expect(Object.keys(manifest.sources).sort()).toEqual(Object.keys(site).sort())
    const files = [...p.snapshot().keys()]
    expect(files).toContain('site/guide/intro.html')
    expect(files).not.toContain('site/notes/draft.html')
    expect(files).toContain('site/private/secret.html')
    expect(p.read('out/datasets/qa.jsonl')).not.toContain('Hidden?')
    expect(p.read('out/site/search-index.jsonl')).toContain('Hidden?')
  })

  it('is deterministic: clean builds are byte-identical, on one thread or several', () => {
    const many: Record<string, string> = {...site}
    for (let index = 0; index < 40; index++) many[`many/page-${index}.md`] = `# Page ${index}\n\n[/Q]Which page?[Q/] [/A]Page ${index}.[A/] [/BLOCKREAD/]\n`
    const p = project(many)
    p.build('--workers', '1')
    const first = p.snapshot()
    p.clean('out')
    p.clean('.tagpress')
    p.build('--workers', '4')
    expect(p.snapshot()).toEqual(first)
  })

  it('rebuilds one edited file and ends byte-identical to a clean build', () => {
    const p = project(site)
    p.build()
    expect(p.build().stats).toMatchObject({compiled: 0, pagesWritten: 0})
    p.write('guide/more.md', '# More\n\n[/Q]Is there more?[Q/] [/A]Yes, much more.[A/] [/BLOCKREAD/]\n')
    const {stats} = p.build()
    expect(stats.compiled).toBe(1)
    expect(stats.pagesWritten).toBe(1)
    const incremental = p.snapshot()
    p.clean('out')
    p.build('--clean')
    expect(incremental).toEqual(p.snapshot())
  })

  it('the outputs read only the parts of a cached compile they need, and a damaged cache file is reported in one sentence', () => {
    const p = project(site)
    p.build()
    const first = p.snapshot()
    // The outputs again from the cache alone (no previous output to copy from): the same bytes.
    p.clean('out')
    expect(p.build().stats.compiled).toBe(0)
    expect(p.snapshot()).toEqual(first)
    // A cache file that is not one: the build says where and what to do, without a stack trace.
    const index = JSON.parse(p.read('.tagpress/cache/files.json')) as {files: Record<string, {key: string}>}
    const key = (index.files['guide/intro.md'] as {key: string}).key
    const file = path.join(p.dir, '.tagpress/cache/files', key.slice(0, 2), key)
    // The format before byte lengths is still read (the dev server shows the last build's pages by their old keys).
    const parts = new BuildCache(path.join(p.dir, '.tagpress'), false).readParts(key)
    const values = partNames.map((name) => parts[name])
    writeFileSync(file, 'tagpress-cache-1\n' + JSON.stringify(values.map((value) => value.length)) + '\n' + values.join(''))
    expect(new BuildCache(path.join(p.dir, '.tagpress'), false).readParts(key, ['html', 'detail'])).toEqual({html: parts.html, detail: parts.detail})
    writeFileSync(file, 'not a cache file at all')
    p.clean('out')
    const broken = p.run('build')
    expect(broken.status).not.toBe(0)
    expect(broken.stderr).toMatch(/The build cache in .* is damaged \([0-9a-f]+ is not a cache file\); run the build again with --clean/)
    expect(broken.stderr).not.toMatch(/\n\s+at /)
    expect(p.build('--clean').status).toBe(0)
    expect(p.snapshot()).toEqual(first)
  })

  it('every download is a hard link to its output, after an edit too, and nothing is left aside', () => {
    const p = project({'a.md': '# A\n\n[/Q]One?[Q/] [/A]Yes.[A/] [/BLOCKREAD/]\n', 'b.md': '# B\n\nText. [/BLOCKREAD/]\n'})
    p.build()
    const deck = statSync(path.join(p.dir, 'out/anki/cards.json')).ino
    p.write('b.md', '# B\n\nEdited text. [/BLOCKREAD/]\n')
    p.build()
    expect(statSync(path.join(p.dir, 'out/anki/cards.json')).ino).toBe(deck)
    const files = (dir: string): string[] => readdirSync(dir, {recursive: true, encoding: 'utf8'}).filter((name) => statSync(path.join(dir, name)).isFile())
    const downloads = path.join(p.dir, 'out/site/downloads/files')
    const published = files(downloads)
    expect(published).toEqual(expect.arrayContaining(['datasets/blocks.jsonl', 'manifest.json', 'mongo/nodes.jsonl']))
    // Some were rewritten by the edit (the datasets), some not (the deck): both kinds stay links.
    for (const name of published) expect(statSync(path.join(downloads, name)).ino, name).toBe(statSync(path.join(p.dir, 'out', name)).ino)
    expect(files(path.join(p.dir, 'out')).filter((name) => name.endsWith('.tmp'))).toEqual([])
  })

  it('keeps each source\'s deck cards in .tagpress/anki-cards.bin; a damaged card cache costs time, never a wrong deck', () => {
    const p = project(site)
    p.build()
    const cache = path.join(p.dir, '.tagpress', 'anki-cards.bin')
    const bytes = readFileSync(cache)
    for (const source of ['guide/intro.md', 'guide/more.md', 'private/secret.md']) expect(bytes.includes(JSON.stringify(source))).toBe(true)
    const deck = p.read('out/anki/cards.json')
    // A byte of an unchanged file's note record changed (the answer's text, in the collection as it is): its entry
    // no longer passes its check, so the file is planned again, and the deck is what a clean build makes.
    const damaged = Buffer.from(bytes)
    const at = damaged.lastIndexOf(Buffer.from('It processes each block'))
    expect(at).toBeGreaterThan(0)
    damaged[at] = 'X'.charCodeAt(0)
    writeFileSync(cache, damaged)
    p.write('guide/more.md', '# More\n\n[/Q]Is there more?[Q/] [/A]Yes, much more.[A/] [/BLOCKREAD/]\n')
    p.build()
    expect(p.read('out/anki/cards.json')).not.toBe(deck)
    expect(p.read('out/anki/cards.json')).toContain('much more')
    expectSameAsCleanBuild(p)
    // Cut short: the same.
    writeFileSync(cache, readFileSync(cache).subarray(0, 100))
    p.write('guide/more.md', '# More\n\n[/Q]Is there more?[Q/] [/A]Yes, more still.[A/] [/BLOCKREAD/]\n')
    p.build()
    expectSameAsCleanBuild(p)
  })

  it('an image that changes while the text that shows it does not: the page, the records and the cards take its new name, as in a clean build', () => {
    const p = project({
      'pic.svg': '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>',
      'a.md': '# Pics\n\n[/Q]What is shown?[Q/] [/A]This: ![a picture](pic.svg)[A/] [/BLOCKREAD/]\n',
      'b.md': '# Other\n\nNo pictures.\n'
    })
    p.build()
    const before = /assets\/pic\.[0-9a-f]+\.svg/.exec(p.read('out/site/a.html'))?.[0]
    expect(before).toBeDefined()
    p.write('pic.svg', '<svg xmlns="http://www.w3.org/2000/svg" width="2" height="2"/>')
    expect(p.build().stats.compiled).toBe(1)
    const after = /assets\/pic\.[0-9a-f]+\.svg/.exec(p.read('out/site/a.html'))?.[0]
    expect(after).toBeDefined()
    expect(after).not.toBe(before)
    expect(existsSync(path.join(p.dir, 'out/site', after as string))).toBe(true)
    expect(p.read('out/anki/cards.json')).toContain(path.basename(after as string).replace(/\.svg$/, ''))
    expectSameAsCleanBuild(p)
    // Unchanged since: nothing is compiled again.
    expect(p.build().stats.compiled).toBe(0)
  })

  it('the card lists are spliced by source: an edit that renames a shared deck rewrites the cards of an unchanged file too', () => {
    // Anki compares deck names without case, so cards get the first spelling met: b.md's cards follow a.md's title.
    const p = project({
      'a.md': '# Basics\n\n[/Q]A?[Q/] [/A]A.[A/] [/BLOCKREAD/]\n',
      'b.md': '# basics\n\n[/Q]B?[Q/] [/A]B.[A/] [/BLOCKREAD/]\n',
      'c.md': '# Other\n\n[/Q]C?[Q/] [/A]C.[A/] [/BLOCKREAD/]\n'
    })
    p.build()
    // (The top deck is the project's folder name.)
    const decks = () => (JSON.parse(p.read('out/anki/cards.json')) as {cards: Array<{source: string; deck: string}>}).cards.map((card) => [card.source, card.deck.split('::').slice(1).join('::')])
    expect(decks()).toEqual([['a.md', 'Basics'], ['b.md', 'Basics'], ['c.md', 'Other']])
    p.write('a.md', '# BASICS\n\n[/Q]A?[Q/] [/A]A, again.[A/] [/BLOCKREAD/]\n')
    expect(p.build().stats.compiled).toBe(1)
    expect(decks()).toEqual([['a.md', 'BASICS'], ['b.md', 'BASICS'], ['c.md', 'Other']])
    expect(p.read('out/anki/cards.tsv')).toMatch(/\tB\.\t.*::BASICS\t/)
    // The first card's file changes too (the one without a comma before it).
    p.remove('a.md')
    p.build()
    expect(decks()).toEqual([['b.md', 'basics'], ['c.md', 'Other']])
    expectSameAsCleanBuild(p)
  })

  it('a package whose files are unchanged is written again when another package\'s file renames a deck they share', () => {
    // One package per folder: a new file in alpha/ spells the shared deck first, so beta/'s cards, in a package whose
    // own files did not change, take its spelling too (a collection holds one deck of that name, whatever its case).
    const p = project({
      'alpha/b.md': '# Intro\n\n[/Q]A?[Q/] [/A]A.[A/]\n',
      'beta/c.md': '# intro\n\n[/Q]C?[Q/] [/A]C.[A/]\n'
    })
    writeFileSync(path.join(p.dir, 'tagpress.config.json'), JSON.stringify({anki: {packages: 'folder'}}))
    p.build()
    expect(existsSync(path.join(p.dir, 'out/anki', path.basename(p.dir), 'beta.apkg'))).toBe(true)
    const deckOf = () => (JSON.parse(p.read('out/anki/cards.json')) as {cards: Array<{source: string; deck: string}>}).cards.find((card) => card.source === 'beta/c.md')?.deck.split('::').slice(1).join('::')
    expect(deckOf()).toBe('Intro')
    p.write('alpha/a.md', '# INTRO\n\n[/Q]Z?[Q/] [/A]Z.[A/]\n')
    p.build()
    expect(deckOf()).toBe('INTRO')
    expectSameAsCleanBuild(p)
  })

  it('a build stopped after the datasets or the site (the dev server, when a newer edit waits) leaves the rest to the next build, which ends byte-identical to a clean build', async () => {
    const {build} = await import('../src/node/build/build.js')
    const {loadConfig} = await import('../src/node/config/load.js')
    // Every place a build can stop, in turn: once the datasets are written (the first question), between the site's
    // pages (before each page it renders), before the later outputs, and inside the deck once its cards are planned.
    const seen = {midSite: 0, siteDone: 0, deckWaits: 0, corporaWait: 0, treesWait: 0}
    // The LitGPT folder and the trees file: each is the previous build's or the new one's, never a mix.
    const corpora = (files: Map<string, string>) => [...files].filter(([file]) => file.startsWith('datasets/litgpt/')).map(([file, hash]) => file + ' ' + hash).join('\n')
    let stopAt = 1
    for (;; stopAt++) {
      const p = project(site)
      p.build()
      const cards = p.read('out/anki/cards.json')
      const manifest = p.read('out/manifest.json')
      const corporaBefore = corpora(p.snapshot())
      const treesBefore = p.read('out/mongo/nodes.jsonl')
      p.write('guide/more.md', '# More\n\n[/Q]Is there more?[Q/] [/A]Yes, much more.[A/] [/BLOCKREAD/]\n')
      p.remove('private/secret.md')
      let asked = 0
      const stopped = await build(await loadConfig(p.dir), {preempt: () => ++asked >= stopAt})
      if (!stopped.preempted) break
      expect(asked).toBe(stopAt)
      // The datasets are current at every stop; the manifest waits for a build that finishes, and the deck is
      // either the previous one or already the new one (a stop after it, before the LitGPT files or the trees).
      expect(p.read('out/datasets/qa.jsonl')).toContain('much more')
      expect(p.read('out/manifest.json')).toBe(manifest)
      const deck = p.read('out/anki/cards.json')
      if (deck !== cards) expect(deck).toContain('much more')
      else seen.deckWaits++
      const corporaNow = corpora(p.snapshot())
      if (corporaNow === corporaBefore) seen.corporaWait += deck !== cards ? 1 : 0
      else expect(p.read('out/datasets/litgpt/qa/train.jsonl') + p.read('out/datasets/litgpt/qa/val.jsonl')).toContain('much more')
      const trees = p.read('out/mongo/nodes.jsonl')
      if (trees === treesBefore) seen.treesWait += corporaNow !== corporaBefore ? 1 : 0
      else expect(trees).toContain('much more')
      // Once the site is done, it is current, and a removed page is gone at once.
      const siteDone = !existsSync(path.join(p.dir, 'out/site/private/secret.html'))
      if (siteDone) expect(p.read('out/site/guide/more.html')).toContain('much more')
      else if (stopAt > 1) seen.midSite++
      if (siteDone) seen.siteDone++
      // Nothing changed in content/ since, and still the next build writes what the stopped one left.
      const next = p.build()
      expect(next.stats.compiled).toBe(0)
      // The stopped build's pages are trusted: none is written again unless the site was cut short.
      if (siteDone) expect(next.stats.pagesWritten).toBe(0)
      expect(p.read('out/anki/cards.json')).toContain('much more')
      const finished = p.snapshot()
      p.clean('out')
      p.build('--clean')
      expect(finished).toEqual(p.snapshot())
    }
    // Stops before the site, between its pages (at least one), before the later outputs and inside the deck.
    expect(seen.midSite).toBeGreaterThan(0)
    expect(seen.siteDone).toBeGreaterThanOrEqual(2)
    expect(seen.deckWaits).toBeGreaterThanOrEqual(3)
    // With the deck new: stops before or inside the LitGPT files, and before or inside the trees.
    expect(seen.corporaWait).toBeGreaterThanOrEqual(1)
    expect(seen.treesWait).toBeGreaterThanOrEqual(1)
    expect(stopAt).toBeGreaterThan(4)
  })

  it('a stopped build, then the edit undone: the next build writes the content as it is again', async () => {
    const {build} = await import('../src/node/build/build.js')
    const {loadConfig} = await import('../src/node/config/load.js')
    const p = project(site)
    p.build()
    const before = p.snapshot()
    const original = p.read('content/guide/more.md')
    p.write('guide/more.md', '# More\n\n[/Q]Is there more?[Q/] [/A]Yes, much more.[A/] [/BLOCKREAD/]\n')
    expect((await build(await loadConfig(p.dir), {preempt: () => true})).preempted).toBe(true)
    p.write('guide/more.md', original)
    p.build()
    expect(p.read('out/datasets/qa.jsonl')).not.toContain('much more')
    // The content is what it was (only the file's time moved, which pages and deck notes show): the datasets are as before,
    // and everything equals a clean build.
    const after = p.snapshot()
    for (const file of ['datasets/blocks.jsonl', 'datasets/chapters.jsonl', 'datasets/qa.jsonl']) expect(after.get(file), file).toBe(before.get(file))
    p.clean('out')
    p.build('--clean')
    expect(after).toEqual(p.snapshot())
  })

  /**
   * A build of `p` in this process that runs `meanwhile` as the compile starts: after the plan hashed the files, before
   * the compile reads each text.
   */
  async function buildWithChangeAtCompile(p: Project, meanwhile: () => void): Promise<Awaited<ReturnType<typeof import('../src/node/build/build.js').build>>> {
    const {build} = await import('../src/node/build/build.js')
    const {loadConfig} = await import('../src/node/config/load.js')
    const {Progress} = await import('../src/node/build/progress.js')
    class ChangeAtCompile extends Progress {
      override start(label: string, total: number): void {
        if (label === 'compiling') meanwhile()
        super.start(label, total)
      }
    }
    return build(await loadConfig(p.dir), {progress: new ChangeAtCompile(process.stderr, false)})
  }

  it('a file saved between the plan and its compile is built as it is then, under its own key, and the next build agrees', async () => {
    const p = project(site)
    p.build()
    p.write('guide/more.md', '# More\n\n[/Q]Is there more?[Q/] [/A]Yes, planned.[A/] [/BLOCKREAD/]\n')
    const result = await buildWithChangeAtCompile(p, () => p.write('guide/more.md', '# More\n\n[/Q]Is there more?[Q/] [/A]Yes, saved later.[A/] [/BLOCKREAD/]\n'))
    expect(result.ok).toBe(true)
    expect(p.read('out/datasets/qa.jsonl')).toContain('saved later')
    expect(p.read('out/datasets/qa.jsonl')).not.toContain('planned')
    // Nothing changed since: the next build compiles nothing and writes what a clean build writes.
    expect(p.build().stats.compiled).toBe(0)
    expectSameAsCleanBuild(p)
  })

  it('a file removed between the plan and its compile fails the build with a sentence, and the next build goes on without it', async () => {
    const p = project(site)
    p.build()
    p.write('guide/more.md', '# More\n\n[/Q]Is there more?[Q/] [/A]Soon gone.[A/] [/BLOCKREAD/]\n')
    await expect(buildWithChangeAtCompile(p, () => p.remove('guide/more.md'))).rejects.toThrow(/guide\/more\.md was removed while the build ran; run the build again$/)
    const next = p.build()
    expect(next.status === 0 || next.status === 1).toBe(true)
    expect(p.read('out/datasets/qa.jsonl')).not.toContain('Is there more?')
  })

  it('re-renders the pages that list a file when its title changes, and removes deleted pages', () => {
    const p = project(site)
    p.build()
    p.write('guide/more.md', '# Much more\n\nText.\n')
    const {stats} = p.build()
    expect(stats.compiled).toBe(1)
    // Every page lists it in the sidebar (a small site shows the whole tree).
    expect(stats.pagesWritten).toBe(4)
    expect(p.read('out/site/index.html')).toContain('Much more')
    p.remove('guide/more.md')
    p.build()
    expect([...p.snapshot().keys()]).not.toContain('site/guide/more.html')
    expect(p.read('out/site/index.html')).not.toContain('Much more')
  })

  it('keeps the last good output of a file with errors and writes the others', () => {
    const p = project(site)
    p.build()
    const before = p.read('out/site/guide/more.html')
    p.write('guide/more.md', '# More\n\n[/Q]Is there more?\n')
    p.write('index.md', '---\ntitle: Home\n---\n# Home again\n')
    const result = p.build()
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('content/guide/more.md:3:1: Expected a closing `[Q/]` for `[/Q]` before the end of the paragraph [TP001]')
    expect(result.stats).toMatchObject({errors: 1, keptLastGood: 1})
    expect(p.read('out/site/guide/more.html')).toBe(before)
    expect(p.read('out/datasets/qa.jsonl')).toContain('Is there more?')
    expect(p.read('out/site/index.html')).toContain('Home again')
  })

  it('leaves a broken new file out and reports every error of every file', () => {
    const p = project({...site, 'broken/a.md': '# A\n\n[/A]x[A/]\n', 'broken/b.md': '# B\n\n[/T]t[T/] [Q/]\n'})
    const result = p.build()
    expect(result.status).toBe(1)
    expect(result.stderr.split('\n').filter((line) => line.includes('[TP'))).toEqual([
      'content/broken/a.md:3:1: Unexpected answer `[/A]` with no open question before it, expected `[/Q]…[Q/]` first [TP006]',
      'content/broken/b.md:3:1: Unexpected topic `[/T]` outside a heading, expected it inside a heading (`## [/T]Title[T/]`) [TP008]',
      'content/broken/b.md:3:11: Unexpected closing tag `[Q/]` with no open `[/Q]` before it [TP002]'
    ])
    expect([...p.snapshot().keys()].some((file) => file.includes('broken'))).toBe(false)
  })

  it('checks without writing, as text or JSON', () => {
    const p = project({'a.md': '# A\n\nSee [nowhere](b.md).\n'})
    const text = p.run('check')
    expect(text.status).toBe(1)
    expect(text.stderr).toContain('content/a.md:3:5: Unexpected dead link `b.md`: no page `b.md` in the content folder [TP013]')
    const json = p.run('check', '--format', 'json')
    expect(JSON.parse(json.stdout)).toMatchObject({errors: 1, messages: [{source: 'a.md', line: 3, column: 5, code: 'TP013', rule: 'dead-link', severity: 'error'}]})
    expect(() => p.snapshot()).toThrow()
  })

  it('explains bad config and bad arguments without a stack trace', () => {
    const p = project({'a.md': '# A\n'})
    p.write('../tagpress.config.json', '{"site": {"titel": "x", "base": "docs"}, "litgpt": {"kinds": ["qa", "pairs"]}}')
    const result = p.run('build')
    expect(result.status).toBe(2)
    expect(result.stderr).toBe(
      'tagpress: tagpress.config.json: invalid config:\n' +
        '  - unknown key `site.titel` (did you mean `site.title`?)\n' +
        '  - `site.base` must be a path that starts and ends with `/` (like `/` or `/docs/`), not "docs"\n' +
        '  - `litgpt.kinds[1]` must be one of "qa", "blocks", "chapters", not string "pairs"\n'
    )
    const bad = p.run('build', '--nope')
    expect(bad.status).toBe(2)
    expect(bad.stderr).toContain("Unknown option '--nope'")
    expect(bad.stderr).not.toMatch(/at .*\.js:\d+/)
  })
})
