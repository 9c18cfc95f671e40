import {mkdirSync, readFileSync} from 'node:fs'
import type {Server} from 'node:http'
import path from 'node:path'
import {gzipSync} from 'node:zlib'
import type {Browser, BrowserContext, Page} from 'playwright-core'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseInline, parseMarkdown} from '../site/ask/markdown.js'
import {renderNotFound, renderPage} from '../src/node/site/layout.js'
import type {PageModel} from '../src/node/site/page-model.js'
import {startAskDev, type AskDev} from './helpers/ask-dev.js'
import {axeViolations, browserAvailable, launch, serveSite} from './helpers/browser.js'
import {Project} from './helpers/project.js'

// The "ask this doc" panel (issue 8, docs/panel.md): Chromium against
// `tagpress dev` on a copy of the example site, its model the stand-in Ollama.
// Screenshots of every state at 375 and 1280 px go to test-results/panel/.
const repo = path.join(import.meta.dirname, '..')
const shots = path.join(repo, 'test-results', 'panel')
const run = browserAvailable()
const PAGE = 'guide/intro.html'

/** What the page's listener records for each stream event the panel applied (see `watch`). */
interface Applied {
  node: string
  type: string
  seq: number
  attempt: number
  finals: number
  open: boolean
  problems: string[]
}

type TestPage = Page & {errors: string[]}

describe('the panel\'s Markdown', () => {
  it('parses what models write: paragraphs, lists, fences, tables, emphasis, citations', () => {
    const blocks = parseMarkdown('# Title\n\nSome *em*, **strong**, `code` and ~~gone~~ [§1].\n\n- one\n- two\n  - nested\n\n1. first\n2. second\n\n```ts\nconst a = 1\n```\n\n| a | b |\n|:-|-:|\n| 1 | 2 |\n\n> quoted\n\n---\n')
    expect(blocks.map((block) => block.t)).toEqual(['h', 'p', 'list', 'list', 'code', 'table', 'quote', 'hr'])
    expect(blocks[1]).toEqual({t: 'p', c: [
      {t: 'text', v: 'Some '}, {t: 'em', c: [{t: 'text', v: 'em'}]}, {t: 'text', v: ', '}, {t: 'strong', c: [{t: 'text', v: 'strong'}]},
      {t: 'text', v: ', '}, {t: 'code', v: 'code'}, {t: 'text', v: ' and '}, {t: 'del', c: [{t: 'text', v: 'gone'}]}, {t: 'text', v: ' '},
      {t: 'cite', labels: ['1'], raw: '[§1]'}, {t: 'text', v: '.'},
    ]})
    const list = blocks[2] as Extract<(typeof blocks)[number], {t: 'list'}>
    expect(list.tight).toBe(true)
    expect(list.items[1]?.[1]).toMatchObject({t: 'list', items: [[{t: 'p'}]]})
    expect(blocks[4]).toEqual({t: 'code', lang: 'ts', v: 'const a = 1'})
    expect(blocks[5]).toMatchObject({t: 'table', align: ['left', 'right']})
  })

  it('keeps raw HTML, images and foreign links as text, and leaves unclosed markup literal', () => {
    expect(parseInline('<img src=x onerror=alert(1)> ![alt](https://evil.example/x.png) [here](https://evil.example)')).toEqual([
      {t: 'text', v: '<img src=x onerror=alert(1)> '}, {t: 'text', v: 'alt'}, {t: 'text', v: ' '},
      {t: 'link', c: [{t: 'text', v: 'here'}], href: 'https://evil.example'},
    ])
    expect(parseInline('**still writing')).toEqual([{t: 'text', v: '**still writing'}])
    expect(parseInline('snake_case_name and [§2, §3]')).toEqual([{t: 'text', v: 'snake_case_name and '}, {t: 'cite', labels: ['2', '3'], raw: '[§2, §3]'}])
    expect(parseMarkdown('```py\nprint(1)\n')).toEqual([{t: 'code', lang: 'py', v: 'print(1)'}]) // a fence still open
    expect(parseInline('*a **b** c*')).toEqual([{t: 'em', c: [{t: 'text', v: 'a '}, {t: 'strong', c: [{t: 'text', v: 'b'}]}, {t: 'text', v: ' c'}]}])
  })
})

describe('the panel\'s button in the layout', () => {
  const model = (overrides: Partial<PageModel> = {}): PageModel => ({
    kind: 'page', lang: 'en', site: {title: 'Docs', base: '/docs/'}, title: 'Intro', description: '', path: 'guide/intro.html', bodyHtml: '<h1 id="intro">Intro</h1>',
    toc: [], nav: [], breadcrumbs: [], assets: {css: [], js: []}, searchIndexUrl: '/docs/search-index.json', qaCount: 0, ...overrides,
  })
  const records = {blocks: 1, chapters: 0, qa: 0, cards: 0, excluded: false, datasetsUrl: '/docs/downloads/index.html'}

  it('is in the header of every page, with the base and (for Markdown pages) the file id', () => {
    const html = renderPage(model({records}))
    const button = /<button[^>]*data-tp-ask-open[^>]*>/.exec(html)?.[0] ?? ''
    expect(button).toContain('aria-label="Ask this page"')
    expect(button).toContain('aria-keyshortcuts="Control+I Meta+I"')
    expect(button).toContain('data-base="/docs/"')
    expect(button).toContain('data-page="guide/intro"')
    expect(html.indexOf('data-tp-search-open')).toBeLessThan(html.indexOf('data-tp-ask-open'))
    expect(html.indexOf('data-tp-ask-open')).toBeLessThan(html.indexOf('data-tp-theme'))
    // A generated page (no Markdown source): the button, without a page to ask about.
    expect(renderPage(model({path: 'downloads/index.html'}))).toMatch(/data-tp-ask-open data-base="\/docs\/">/)
    expect(renderNotFound(model({kind: '404', path: '404.html'}))).not.toContain('data-tp-ask-open')
  })
})

describe('the panel\'s size', () => {
  it('adds under 30 KB gzipped to a page, lazily, and a few hundred bytes to the initial script', async () => {
    const theme = path.join(repo, 'dist', 'theme')
    const manifest = JSON.parse(readFileSync(path.join(theme, '.vite', 'manifest.json'), 'utf8')) as Record<string, {file: string; css?: string[]; imports?: string[]; dynamicImports?: string[]; isEntry?: boolean}>
    const gz = (file: string): number => gzipSync(readFileSync(path.join(theme, file)), {level: 9}).length
    const panel = manifest['ask/panel.ts']
    expect(panel, 'the panel is its own chunk').toBeDefined()
    const entry = manifest['main.ts'] as NonNullable<typeof panel>
    expect(entry.dynamicImports).toContain('ask/panel.ts')
    // Everything the panel loads: its chunk, the chunks it imports (other than the page's own script), its CSS.
    const files = new Set<string>()
    const visit = (key: string): void => {
      const chunk = manifest[key]
      if (!chunk || key === 'main.ts' || files.has(chunk.file)) return
      files.add(chunk.file)
      for (const css of chunk.css ?? []) files.add(css)
      for (const imported of chunk.imports ?? []) visit(imported)
    }
    visit('ask/panel.ts')
    const lazy = [...files].reduce((sum, file) => sum + gz(file), 0)
    // The initial script with and without the button's code (the two marked lines of main.ts).
    const {build} = await import('vite')
    const sizeOf = async (withAsk: boolean): Promise<number> => {
      const output = (await build({
        configFile: path.join(repo, 'site', 'vite.config.ts'),
        logLevel: 'silent',
        build: {write: false, manifest: false},
        plugins: withAsk ? [] : [{name: 'no-ask', enforce: 'pre', transform: (code: string, id: string) => (id.endsWith('/site/main.ts') ? code.split('\n').filter((line) => !line.includes('// ask panel')).join('\n') : undefined)}],
      })) as {output: Array<{type: string; isEntry?: boolean; code?: string}>} | Array<{output: Array<{type: string; isEntry?: boolean; code?: string}>}>
      const chunks = (Array.isArray(output) ? output[0]?.output : output.output) ?? []
      const main = chunks.find((chunk) => chunk.type === 'chunk' && chunk.isEntry)
      return gzipSync(main?.code ?? '', {level: 9}).length
    }
    const added = (await sizeOf(true)) - (await sizeOf(false))
    const mainCss = (entry.css ?? []).map((file) => readFileSync(path.join(theme, file), 'utf8')).join('')
    console.log(`ask panel: lazy ${(lazy / 1024).toFixed(1)} KB gzipped (${[...files].map((file) => `${path.basename(file)} ${gz(file)} B`).join(', ')}); initial script +${added} B gzipped`)
    expect(lazy).toBeLessThan(30 * 1024)
    expect(added).toBeGreaterThan(0)
    expect(added).toBeLessThan(600)
    expect(mainCss).not.toContain('.tp-ask-node') // the panel's styles load with it
  })
})

describe.runIf(run)('the ask panel in tagpress dev', () => {
  let project: Project
  let dev: AskDev
  let browser: Browser
  let context: BrowserContext
  let page: TestPage

  beforeAll(async () => {
    project = Project.copyOf(repo)
    dev = await startAskDev(project)
    dev.standin.defaults = {tokenDelayMs: 25}
    browser = await launch()
    mkdirSync(shots, {recursive: true})
    context = await newContext(1280, false)
    page = await openPage(context, PAGE)
  })

  afterAll(async () => {
    await browser?.close()
    await dev?.stop()
    project?.dispose()
  })

  async function newContext(width: number, dark: boolean): Promise<BrowserContext> {
    const created = await browser.newContext({viewport: {width, height: 860}, colorScheme: dark ? 'dark' : 'light'})
    await created.grantPermissions(['clipboard-read', 'clipboard-write'], {origin: new URL(dev.url).origin})
    return created
  }

  /** Another browser profile that remembers the main flow's session (as the same reader's other browser would, picking it from the list). */
  async function sameSession(owner: BrowserContext): Promise<void> {
    const prefs = await page.evaluate(() => localStorage.getItem('tagpress-ask') ?? '{}')
    await owner.addInitScript((value) => {
      if (localStorage.getItem('tagpress-ask') === null) localStorage.setItem('tagpress-ask', value)
    }, prefs)
  }

  async function openPage(owner: BrowserContext, file: string): Promise<TestPage> {
    const opened = (await owner.newPage()) as TestPage
    opened.errors = []
    opened.on('pageerror', (error) => opened.errors.push(error.message))
    opened.on('console', (message) => {
      if (message.type() === 'error' && !/Failed to load resource|ERR_INTERNET_DISCONNECTED|net::/.test(message.text())) opened.errors.push(message.text())
    })
    await opened.goto(dev.url + file)
    await watch(opened)
    return opened
  }

  /** Record every stream event the panel applies, checking the DOM right after it: final blocks in order, earlier ones untouched. */
  async function watch(target: Page): Promise<void> {
    await target.evaluate(() => {
      const w = window as unknown as {applied: Applied[]; seen: Map<string, Array<{element: Element; html: string}>>}
      w.applied = []
      w.seen = new Map()
      document.addEventListener('tagpress:ask-event', (event) => {
        const detail = (event as CustomEvent<{node: string; type: string; seq: number; attempt: number; finals: number}>).detail
        const answer = document.querySelector(`[data-node="${detail.node}"] > .tp-ask-reply-body > .tp-ask-answer`)
        const blocks = [...(answer?.querySelectorAll(':scope > [data-i]') ?? [])]
        const open = answer?.querySelector(':scope > [data-open]') ?? null
        const key = detail.node + '#' + detail.attempt
        const seen = w.seen.get(key) ?? []
        const problems: string[] = []
        seen.forEach((before, index) => {
          if (blocks[index] !== before.element) problems.push(`final block ${index} was replaced`)
          else if (before.element.outerHTML !== before.html) problems.push(`final block ${index} changed`)
        })
        blocks.forEach((block, index) => {
          if ((block as HTMLElement).dataset['i'] !== String(index)) problems.push(`block ${index} out of order`)
        })
        if (blocks.length !== detail.finals) problems.push(`${blocks.length} final blocks shown, ${detail.finals} received`)
        if (open !== null && open.nextElementSibling !== null) problems.push('the open block is not last')
        w.seen.set(key, [...seen, ...blocks.slice(seen.length).map((element) => ({element, html: element.outerHTML}))])
        w.applied.push({node: detail.node, type: detail.type, seq: detail.seq, attempt: detail.attempt, finals: blocks.length, open: open !== null, problems})
      })
    })
  }

  const applied = (target: Page, node?: string): Promise<Applied[]> =>
    target.evaluate((id) => (window as unknown as {applied: Applied[]}).applied.filter((entry) => id === undefined || entry.node === id), node)

  /** Screenshots of the current state at both widths (the page keeps its state while resized). */
  async function shoot(target: Page, name: string, dark = false, show?: string): Promise<void> {
    const size = target.viewportSize() ?? {width: 1280, height: 860}
    for (const width of [1280, 375]) {
      await target.setViewportSize({width, height: width === 375 ? 740 : 860})
      await target.waitForTimeout(450) // the sidebar's drawer transition after a resize
      if (show) await target.locator(`[data-node="${show}"]`).evaluate((element) => element.scrollIntoView({block: 'start'}))
      await target.screenshot({path: path.join(shots, `${name}-${width}${dark ? '-dark' : ''}.png`)})
    }
    await target.setViewportSize(size)
    await target.waitForTimeout(60)
  }

  const panel = (target: Page) => target.locator('#tp-ask')
  const nodes = (target: Page) => target.locator('#tp-ask .tp-ask-node')

  async function ask(target: Page, question: string): Promise<string> {
    const input = target.locator('#tp-ask-input')
    await input.fill(question)
    const before = await nodes(target).count()
    await input.press('Enter')
    await expect.poll(() => nodes(target).count()).toBe(before + 1)
    return (await nodes(target).last().getAttribute('data-node')) as string
  }

  const node = (target: Page, id: string) => target.locator(`[data-node="${id}"]`)
  const stateOf = (target: Page, id: string) => node(target, id).getAttribute('data-state')
  const answerText = (target: Page, id: string) => node(target, id).locator(':scope > .tp-ask-reply-body > .tp-ask-answer').innerText()

  let first = ''

  it('opens from the header, asks about the page and renders the answer block by block', async () => {
    await page.locator('[data-tp-ask-open]').click()
    await expect.poll(() => panel(page).isVisible()).toBe(true)
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('tp-ask-input')
    await page.waitForSelector('#tp-ask .tp-ask-suggestion')
    await shoot(page, '01-empty')

    first = await ask(page, 'What does the block reader do?')
    await page.waitForFunction((id) => (window as unknown as {applied: Applied[]}).applied.some((entry) => entry.node === id && entry.type === 'answer' && entry.finals >= 1), first)
    await shoot(page, '02-streaming')
    await expect.poll(() => stateOf(page, first), {timeout: 20_000}).toBe('immutable')

    const events = await applied(page, first)
    expect(events.map((event) => event.problems).flat()).toEqual([])
    expect(events[0]?.type).toBe('start')
    expect(events[events.length - 1]?.type).toBe('done')
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1))
    // Blocks arrived one after another: the count of final blocks grew over several events, never shrank.
    const counts = events.map((event) => event.finals)
    expect(counts).toEqual([...counts].sort((a, b) => a - b))
    expect(new Set(counts).size).toBeGreaterThanOrEqual(4)
    expect(events.some((event) => event.open)).toBe(true)

    const answer = node(page, first).locator(':scope > .tp-ask-reply-body > .tp-ask-answer')
    const blocks = answer.locator(':scope > [data-i]')
    expect(await blocks.count()).toBe(4)
    expect(await blocks.nth(0).innerText()).toMatch(/answers this/)
    expect(await blocks.nth(1).locator('li').count()).toBe(2)
    expect(await blocks.nth(2).locator('pre').innerText()).toBe('example')
    expect(await blocks.nth(3).innerText()).toContain('That is all the page says about it.')
    expect(await answer.locator('[data-open]').count()).toBe(0)
    // Done: sources listed, Reply and Copy offered, no Stop.
    expect(await node(page, first).locator('.tp-ask-sources a.tp-ask-source').count()).toBeGreaterThan(0)
    expect(await node(page, first).locator(':scope > .tp-ask-reply-body > .tp-ask-actions [data-act]').evaluateAll((buttons) => buttons.map((button) => button.getAttribute('data-act')))).toEqual(['reply', 'copy-answer'])
  })

  it('copies the answer and a code block', async () => {
    await node(page, first).locator('[data-act="copy-answer"]').click()
    expect(await page.evaluate(() => navigator.clipboard.readText())).toContain('That is all the page says about it.')
    await node(page, first).locator('[data-act="copy-code"]').click()
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('example')
  })

  it('scrolls to a cited section and highlights it', async () => {
    const cite = node(page, first).locator('.tp-ask-answer a.tp-ask-cite').first()
    const href = (await cite.getAttribute('href')) as string
    expect(href).toMatch(/^\/guide\/intro\.html#/)
    const anchor = decodeURIComponent(href.split('#')[1] as string)
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight))
    await cite.click()
    const heading = page.locator(`[id="${anchor}"]`)
    // A smooth scroll from the page's end: under load (the whole suite at once) it can take longer than poll's 1 s.
    await expect.poll(async () => (await heading.boundingBox())?.y ?? -1, {timeout: 10_000}).toBeGreaterThanOrEqual(40)
    await expect.poll(async () => (await heading.boundingBox())?.y ?? 9999, {timeout: 10_000}).toBeLessThan(200)
    expect(await heading.evaluate((element) => element.classList.contains('tp-ask-highlight'))).toBe(true)
    expect(new URL(page.url()).hash).toBe('#' + encodeURIComponent(anchor))
    expect(await panel(page).isVisible()).toBe(true)
    await shoot(page, '03-cited')

    // On a phone the sheet shrinks to half height so the section shows above it.
    await page.setViewportSize({width: 375, height: 740})
    await page.waitForTimeout(450)
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight))
    await cite.click()
    await expect.poll(() => panel(page).evaluate((element) => element.classList.contains('is-peek'))).toBe(true)
    await page.waitForTimeout(300)
    const sheet = (await panel(page).boundingBox())?.y ?? 0
    expect(sheet).toBeGreaterThan(300)
    await expect.poll(async () => (await heading.boundingBox())?.y ?? -1, {timeout: 10_000}).toBeGreaterThanOrEqual(40)
    await expect.poll(async () => (await heading.boundingBox())?.y ?? 9999, {timeout: 10_000}).toBeLessThan(sheet - 40)
    await page.screenshot({path: path.join(shots, '03-cited-phone-375.png')})
    await page.locator('#tp-ask [data-act="size"]').click()
    expect(await panel(page).evaluate((element) => element.classList.contains('is-peek'))).toBe(false)
    await page.setViewportSize({width: 1280, height: 860})
  })

  it('stops an answer mid-stream', async () => {
    dev.standin.next({tokenDelayMs: 150})
    const id = await ask(page, 'Explain the chapter tree reader in detail.')
    await page.waitForFunction((node) => (window as unknown as {applied: Applied[]}).applied.some((entry) => entry.node === node && entry.finals >= 1), id, {timeout: 20_000})
    const stop = node(page, id).locator('[data-act="stop"]')
    expect(await stop.isVisible()).toBe(true)
    await stop.click()
    await expect.poll(() => stateOf(page, id)).toBe('failed')
    await dev.standin.waitForDisconnect()
    expect(await node(page, id).locator('.tp-ask-failure').innerText()).toMatch(/Stopped/)
    expect(await node(page, id).locator('[data-act="stop"]').count()).toBe(0)
    expect(await node(page, id).locator('[data-act="recall"]').count()).toBe(1)
    const partial = await answerText(page, id)
    expect(partial.length).toBeGreaterThan(0)
    expect(partial).not.toContain('That is all the page says about it.')
    expect((await applied(page, id)).flatMap((event) => event.problems)).toEqual([])
    await shoot(page, '04-stopped', false, id)
  })

  let failedId = ''

  it('shows a failure with its reason and recalls it', async () => {
    dev.standin.next({cutAfter: 12, cutMode: 'reset'})
    failedId = await ask(page, 'What is a block item?')
    await expect.poll(() => stateOf(page, failedId), {timeout: 20_000}).toBe('failed')
    const failure = node(page, failedId).locator('.tp-ask-failure')
    expect(await failure.innerText()).toMatch(/cut off/i)
    await shoot(page, '05-failed', false, failedId)
    await node(page, failedId).locator('[data-act="recall"]').click()
    await expect.poll(() => stateOf(page, failedId), {timeout: 20_000}).toBe('immutable')
    expect(await failure.isVisible()).toBe(false)
    expect(await answerText(page, failedId)).toContain('That is all the page says about it.')
    const events = await applied(page, failedId)
    expect(events.filter((event) => event.type === 'start').map((event) => event.attempt)).toEqual([1, 2])
    expect(events.flatMap((event) => event.problems)).toEqual([])
    expect(await node(page, failedId).locator('.tp-ask-meta').innerText()).toContain('attempt 2')
  })

  let replyId = ''

  it('replies to a finished answer and shows the reply nested under it', async () => {
    await node(page, first).locator(':scope > .tp-ask-reply-body > .tp-ask-actions [data-act="reply"]').click()
    const area = node(page, first).locator('.tp-ask-reply-form textarea')
    expect(await area.evaluate((element) => element === document.activeElement)).toBe(true)
    await area.fill('And what does it store?')
    await area.press('Enter')
    const reply = node(page, first).locator(':scope > .tp-ask-children > .tp-ask-node')
    await expect.poll(() => reply.count()).toBe(1)
    replyId = (await reply.getAttribute('data-node')) as string
    await expect.poll(() => stateOf(page, replyId), {timeout: 20_000}).toBe('immutable')
    const parentBox = await node(page, first).locator(':scope > .tp-ask-question').boundingBox()
    const childBox = await reply.locator(':scope > .tp-ask-question').boundingBox()
    expect((childBox?.x ?? 0) - (parentBox?.x ?? 0)).toBeGreaterThan(10)
    const tree = await page.evaluate(async (session) => (await (await fetch('/api/trees/' + session)).json()) as {tree: Array<{_id: string; children: Array<{_id: string}>}>}, await page.evaluate(() => JSON.parse(localStorage.getItem('tagpress-ask') ?? '{}').session as string))
    expect(tree.tree.find((entry) => entry._id === first)?.children.map((child) => child._id)).toEqual([replyId])
    // The reply went out with its parent as history.
    const request = dev.standin.generations().at(-1)
    expect(JSON.stringify(request?.body)).toContain('What does the block reader do?')
    await shoot(page, '06-reply', false, first)
  })

  it('shows the same stream in a second tab on the same node', async () => {
    dev.standin.next({tokenDelayMs: 60})
    const id = await ask(page, 'How are code blocks handled?')
    await page.waitForFunction((node) => (window as unknown as {applied: Applied[]}).applied.some((entry) => entry.node === node && entry.type === 'answer'), id)
    const second = await openPage(context, PAGE)
    await second.locator('[data-tp-ask-open]').click()
    await expect.poll(() => node(second, id).count(), {timeout: 10_000}).toBe(1)
    await second.waitForFunction((node) => (window as unknown as {applied: Applied[]}).applied.some((entry) => entry.node === node && entry.type === 'start'), id)
    expect(await stateOf(second, id)).toBe('streaming')
    await shoot(second, '07-second-tab')
    await expect.poll(() => stateOf(page, id), {timeout: 20_000}).toBe('immutable')
    await expect.poll(() => stateOf(second, id), {timeout: 20_000}).toBe('immutable')
    expect(await answerText(second, id)).toBe(await answerText(page, id))
    const html = (target: Page) => node(target, id).locator(':scope > .tp-ask-reply-body > .tp-ask-answer').evaluate((element) => element.innerHTML)
    expect(await html(second)).toBe(await html(page))
    const mine = await applied(page, id)
    const theirs = await applied(second, id)
    expect(theirs.flatMap((event) => event.problems)).toEqual([])
    expect(theirs.map((event) => [event.type, event.seq, event.finals])).toEqual(mine.map((event) => [event.type, event.seq, event.finals]))
    await second.close()
  })

  it('finds the session again after a reload', async () => {
    const before = await nodes(page).evaluateAll((elements) => elements.map((element) => element.getAttribute('data-node')))
    await page.reload()
    await watch(page)
    await expect.poll(() => panel(page).isVisible()).toBe(true)
    await expect.poll(() => nodes(page).count()).toBe(before.length)
    expect(await nodes(page).evaluateAll((elements) => elements.map((element) => element.getAttribute('data-node')))).toEqual(before)
    expect(await node(page, replyId).evaluate((element) => element.parentElement?.closest('.tp-ask-node')?.getAttribute('data-node'))).toBe(first)
    expect(await answerText(page, first)).toContain('That is all the page says about it.')
    expect(await page.locator('#tp-ask .tp-ask-subtitle').innerText()).toBe('What does the block reader do?')
    await shoot(page, '08-reloaded')
  })

  it('lists, renames, starts and deletes sessions', async () => {
    await page.locator('#tp-ask [data-act="sessions"]').click()
    const list = page.locator('#tp-ask .tp-ask-session')
    await expect.poll(() => list.count()).toBe(1)
    await list.first().locator('[data-act="rename"]').click()
    const input = page.locator('#tp-ask .tp-ask-rename')
    await input.fill('Block reader questions')
    await input.press('Enter')
    await expect.poll(() => list.first().locator('.tp-ask-session-title').innerText()).toBe('Block reader questions')
    expect(await page.locator('#tp-ask .tp-ask-subtitle').innerText()).toBe('Block reader questions')
    await shoot(page, '09-sessions')
    // From 1440 px the list sits beside the conversation, and the page makes room for both.
    await page.setViewportSize({width: 1600, height: 900})
    await page.waitForTimeout(300)
    expect(await page.locator('#tp-ask .tp-ask-tree').isVisible()).toBe(true)
    expect(await page.evaluate(() => document.documentElement.classList.contains('tp-ask-wide'))).toBe(true)
    const main = await page.locator('.tp-main').boundingBox()
    const sheet = await panel(page).boundingBox()
    expect((main?.x ?? 0) + (main?.width ?? 0)).toBeLessThanOrEqual((sheet?.x ?? 0) + 1)
    await page.screenshot({path: path.join(shots, '09-sessions-1600.png')})
    await page.setViewportSize({width: 1280, height: 860})

    await page.locator('#tp-ask .tp-ask-sessions [data-act="new"]').click()
    expect(await nodes(page).count()).toBe(0)
    const other = await ask(page, 'Which tag starts the chapter tree reader?')
    await expect.poll(() => stateOf(page, other), {timeout: 20_000}).toBe('immutable')
    await page.locator('#tp-ask [data-act="sessions"]').click()
    await expect.poll(() => list.count()).toBe(2)
    expect(await list.first().locator('.tp-ask-session-title').innerText()).toBe('Which tag starts the chapter tree reader?')
    await list.first().locator('[data-act="delete"]').click()
    await page.locator('#tp-ask .tp-ask-confirm .is-danger').click()
    await expect.poll(() => list.count()).toBe(1)
    expect(await nodes(page).count()).toBe(0)
    await list.first().locator('.tp-ask-session-open').click()
    await expect.poll(() => nodes(page).count()).toBeGreaterThan(3)
    expect(page.errors).toEqual([])
  })

  it('passes axe with the panel open, light and dark, wide and narrow', async () => {
    for (const dark of [false, true]) {
      for (const width of [1280, 375]) {
        const owner = await newContext(width, dark)
        await sameSession(owner)
        const opened = await openPage(owner, PAGE)
        await opened.locator('[data-tp-ask-open]').click()
        await expect.poll(() => nodes(opened).count()).toBeGreaterThan(3)
        await node(opened, failedId).locator('[data-act="reply"]').click()
        expect(await axeViolations(opened)).toEqual([])
        if (width === 1280) await shoot(opened, '10-open', dark)
        expect(opened.errors).toEqual([])
        await owner.close()
      }
    }
  })

  it('works by keyboard alone', async () => {
    const owner = await newContext(1280, false)
    await sameSession(owner)
    const opened = await openPage(owner, PAGE)
    const key = (name: string) => opened.keyboard.press(name)
    const active = () => opened.evaluate(() => {
      const element = document.activeElement as HTMLElement | null
      return {id: element?.id ?? '', act: element?.dataset['act'] ?? '', label: element?.getAttribute('aria-label') ?? element?.textContent?.trim() ?? '', cls: element?.className ?? ''}
    })
    /** Tab (or Shift+Tab) until the focused element matches. */
    const tabTo = async (match: (focus: Awaited<ReturnType<typeof active>>) => boolean, back = false): Promise<void> => {
      for (let i = 0; i < 80; i++) {
        await key(back ? 'Shift+Tab' : 'Tab')
        if (match(await active())) return
      }
      throw new Error('not reached by Tab: ' + JSON.stringify(await active()))
    }

    // Tab from the top of the page to the header button; Enter opens the panel with the session restored.
    await tabTo((focus) => focus.label === 'Ask this page')
    await key('Enter')
    await expect.poll(async () => JSON.stringify(await active())).toContain('"id":"tp-ask-input"')
    await expect.poll(() => nodes(opened).count()).toBeGreaterThan(3)

    /** Enter in a composer, and the id of the node it adds. */
    const submit = async (): Promise<string> => {
      const before = await nodes(opened).count()
      await key('Enter')
      await expect.poll(() => nodes(opened).count()).toBe(before + 1)
      return (await nodes(opened).last().getAttribute('data-node')) as string
    }

    // Ask.
    await opened.keyboard.type('What does the chapter tree reader show?')
    const id = await submit()
    await expect.poll(() => stateOf(opened, id), {timeout: 20_000}).toBe('immutable')

    // A citation, by keyboard: the section comes into view and gets the focus.
    await tabTo((focus) => focus.cls.includes('tp-ask-cite'), true)
    const href = await opened.evaluate(() => (document.activeElement as HTMLAnchorElement).getAttribute('href') as string)
    await key('Enter')
    const anchor = decodeURIComponent(href.split('#')[1] as string)
    await expect.poll(async () => (await active()).id).toBe(anchor)
    // Back to the panel with the shortcut.
    await key('Control+i')
    await expect.poll(async () => (await active()).id).toBe('tp-ask-input')

    // Reply to the answer just given.
    await tabTo((focus) => focus.act === 'reply', true)
    await key('Enter')
    await opened.keyboard.type('Is that all?')
    await key('Enter')
    await expect.poll(() => node(opened, id).locator('.tp-ask-children > .tp-ask-node').count()).toBe(1)
    const reply = (await node(opened, id).locator('.tp-ask-children > .tp-ask-node').getAttribute('data-node')) as string
    await expect.poll(() => stateOf(opened, reply), {timeout: 20_000}).toBe('immutable')

    // Stop a slow answer: the focus stays in the composer, Stop is one Shift+Tab away.
    expect(await opened.evaluate(() => document.activeElement?.closest('.tp-ask-node')?.getAttribute('data-node'))).toBe(reply) // the focus is on the new reply
    dev.standin.next({tokenDelayMs: 200})
    await tabTo((focus) => focus.id === 'tp-ask-input')
    await opened.keyboard.type('One more, slowly?')
    const slow = await submit()
    await expect.poll(() => node(opened, slow).locator('[data-act="stop"]').count()).toBe(1)
    await tabTo((focus) => focus.act === 'stop', true)
    await key('Enter')
    await expect.poll(() => stateOf(opened, slow)).toBe('failed')
    expect((await active()).act).toBe('recall') // the focus moved to what replaced Stop
    await key('Enter')
    dev.standin.next({})
    await expect.poll(() => stateOf(opened, slow), {timeout: 30_000}).toBe('immutable')

    // Sessions: open the list, rename by keyboard.
    await tabTo((focus) => focus.act === 'sessions', true)
    await key('Enter')
    await expect.poll(async () => (await active()).cls).toContain('tp-ask-session-open')
    await key('Tab')
    expect((await active()).act).toBe('rename')
    await key('Enter')
    await opened.keyboard.press('Control+a')
    await opened.keyboard.type('Renamed by keyboard')
    await key('Enter')
    await expect.poll(() => opened.locator('#tp-ask .tp-ask-session-title').first().innerText()).toBe('Renamed by keyboard')
    expect((await active()).act).toBe('rename')
    // Escape closes the list, then the panel, and the focus returns to the header button.
    await key('Escape')
    expect((await active()).act).toBe('sessions')
    await key('Escape')
    expect(await panel(opened).isVisible()).toBe(false)
    expect((await active()).label).toBe('Ask this page')
    expect(opened.errors).toEqual([])
    await owner.close()
  })

  it('says when the model is missing, with the exact pull command', async () => {
    const model = dev.standin.models.shift()
    try {
      const id = await ask(page, 'Is the model there?')
      await expect.poll(() => stateOf(page, id), {timeout: 20_000}).toBe('failed')
      const failure = await node(page, id).locator('.tp-ask-failure').innerText()
      expect(failure).toContain('The model is not installed')
      expect(failure).toContain('ollama pull qwen2.5:0.5b')
      expect(await node(page, id).locator('.tp-ask-failure [data-act="copy-text"]').getAttribute('data-text')).toBe('ollama pull qwen2.5:0.5b')
      // The status check says the same (the server caches it up to 10 s; `online` makes the panel check again).
      await expect.poll(async () => {
        await page.evaluate(() => dispatchEvent(new Event('online')))
        return page.locator('#tp-ask .tp-ask-banner').innerText().catch(() => '')
      }, {timeout: 20_000, interval: 1000}).toContain('ollama pull qwen2.5:0.5b')
      expect(await page.locator('#tp-ask .tp-ask-banner').innerText()).toContain('The model is not installed')
      await shoot(page, '11-model-missing', false, id)
    } finally {
      if (model) dev.standin.models.unshift(model)
    }
    // Leave the panel as the next tests expect it: the server's cached status (up to 10 s) says the model is back.
    await expect.poll(async () => {
      await page.evaluate(() => dispatchEvent(new Event('online')))
      return page.locator('#tp-ask .tp-ask-banner').isVisible()
    }, {timeout: 20_000, interval: 1000}).toBe(false)
  })

  it('says when no model server is reachable, and what to run', async () => {
    const {createServer} = await import('node:net')
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const {port} = probe.address() as {port: number}
        probe.close(() => resolve(port))
      })
    })
    // The same project, a second dev server whose Ollama host has nobody listening.
    const down = Project.copyOf(project.dir)
    const {spawn} = await import('node:child_process')
    const child = spawn(process.execPath, [path.join(repo, 'bin', 'tagpress.js'), 'dev', '--port', '0'], {cwd: down.dir, env: {...process.env, CI: 'true', OLLAMA_HOST: 'http://127.0.0.1:' + closed}, stdio: ['ignore', 'pipe', 'pipe']})
    let output = ''
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    try {
      await expect.poll(() => /ready at (http:\/\/\S+)/.exec(output)?.[1], {timeout: 120_000, interval: 200}).toBeTruthy()
      const url = /ready at (http:\/\/\S+)/.exec(output)?.[1] as string
      const owner = await newContext(1280, false)
      const opened = (await owner.newPage()) as TestPage
      await opened.goto(url + PAGE)
      await opened.locator('[data-tp-ask-open]').click()
      const banner = opened.locator('#tp-ask .tp-ask-banner')
      await expect.poll(() => banner.innerText().catch(() => '')).toContain('No model server')
      expect(await banner.innerText()).toContain('ollama serve')
      expect(await banner.getAttribute('data-state')).toBe('backend_down')
      // Asking still works and fails honestly, ready to be recalled once a server runs.
      await opened.locator('#tp-ask-input').fill('Anyone there?')
      await opened.locator('#tp-ask-input').press('Enter')
      const failed = opened.locator('#tp-ask .tp-ask-node[data-state="failed"]')
      await expect.poll(() => failed.count(), {timeout: 20_000}).toBe(1)
      expect(await failed.locator('.tp-ask-failure').innerText()).toContain('No model server')
      expect(await failed.locator('[data-act="recall"]').count()).toBe(1)
      await shoot(opened, '12-backend-down')
      await owner.close()
    } finally {
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      })
      down.dispose()
    }
  })

  it('says when offline, and recovers', async () => {
    await context.setOffline(true)
    await page.evaluate(() => dispatchEvent(new Event('offline')))
    const banner = page.locator('#tp-ask .tp-ask-banner')
    await expect.poll(() => banner.getAttribute('data-state')).toBe('offline')
    expect(await banner.innerText()).toContain('You are offline')
    expect(await page.locator('#tp-ask .tp-ask-send').isDisabled()).toBe(true)
    await shoot(page, '13-offline')
    await context.setOffline(false)
    await page.evaluate(() => dispatchEvent(new Event('online')))
    await expect.poll(() => banner.isVisible()).toBe(false)
    expect(await page.locator('#tp-ask .tp-ask-send').isDisabled()).toBe(false)
  })

  it('says when rate-limited, with the wait from Retry-After', async () => {
    // Fill this address's budget of asks (invalid ones count too), then ask for real.
    const statuses = await page.evaluate(async () => {
      const out: number[] = []
      for (let i = 0; i < 40; i++) {
        const response = await fetch('/api/ask', {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({page: 'guide/intro', question: ''})})
        out.push(response.status)
        if (response.status === 429) break
      }
      return out
    })
    expect(statuses.at(-1)).toBe(429)
    await page.locator('#tp-ask-input').fill('One question too many?')
    await page.locator('#tp-ask-input').press('Enter')
    const banner = page.locator('#tp-ask .tp-ask-banner')
    await expect.poll(() => banner.getAttribute('data-state')).toBe('limited')
    expect(await banner.innerText()).toMatch(/ask again in \d+ s/)
    expect(await page.locator('#tp-ask .tp-ask-error').innerText()).toMatch(/try again in \d+ s/)
    expect(await page.locator('#tp-ask-input').inputValue()).toBe('One question too many?') // kept for later
    expect(await page.locator('#tp-ask .tp-ask-send').isDisabled()).toBe(true)
    await shoot(page, '14-rate-limited')
  })

  it('shows the panel disabled, saying why, on a static host without the API', async () => {
    const result = project.run('build')
    expect(result.status, result.stderr).toBe(0)
    const {url, server} = await serveSite(path.join(project.dir, 'out', 'site'))
    try {
      const owner = await newContext(1280, false)
      const page2 = (await owner.newPage()) as TestPage
      await page2.goto(url + PAGE)
      await page2.locator('[data-tp-ask-open]').click()
      const banner = page2.locator('#tp-ask .tp-ask-banner')
      await expect.poll(() => banner.getAttribute('data-state')).toBe('static')
      expect(await banner.innerText()).toContain('tagpress serve')
      expect(await page2.locator('#tp-ask-input').isDisabled()).toBe(true)
      expect(await page2.locator('#tp-ask .tp-ask-send').isDisabled()).toBe(true)
      expect(await axeViolations(page2)).toEqual([])
      await shoot(page2, '15-static')
      await owner.close()
    } finally {
      ;(server as Server).close()
    }
  })

  it('works in tagpress serve, from the built theme', async () => {
    // The same built site (previous test), now with the API: the lazy chunk and its CSS from out/site/.
    const {spawn} = await import('node:child_process')
    const child = spawn(process.execPath, [path.join(repo, 'bin', 'tagpress.js'), 'serve', '--port', '0'], {cwd: project.dir, env: {...process.env, CI: 'true', OLLAMA_HOST: dev.standin.url, TAGPRESS_MODEL: 'qwen2.5:0.5b'}, stdio: ['ignore', 'pipe', 'pipe']})
    let output = ''
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    try {
      await expect.poll(() => /tagpress serve: (http:\/\/\S+)/.exec(output)?.[1], {timeout: 60_000, interval: 200}).toBeTruthy()
      const url = /tagpress serve: (http:\/\/\S+)/.exec(output)?.[1] as string
      const owner = await newContext(375, false)
      const served = (await owner.newPage()) as TestPage
      served.errors = []
      served.on('pageerror', (error) => served.errors.push(error.message))
      await served.goto(url + PAGE)
      await watch(served)
      expect(await served.evaluate(() => [...document.scripts].filter((script) => script.src.includes('panel')).length)).toBe(0) // not loaded until used
      await served.keyboard.press('Control+i')
      await expect.poll(() => served.evaluate(() => document.activeElement?.id)).toBe('tp-ask-input')
      expect(await served.locator('#tp-ask').evaluate((element) => getComputedStyle(element).position)).toBe('fixed') // ask.css came with it
      const id = await ask(served, 'What does the block reader do?')
      await expect.poll(() => stateOf(served, id), {timeout: 20_000}).toBe('immutable')
      expect(await answerText(served, id)).toContain('That is all the page says about it.')
      expect((await applied(served, id)).flatMap((event) => event.problems)).toEqual([])
      await served.screenshot({path: path.join(shots, '16-serve-375.png')})
      expect(served.errors).toEqual([])
      await owner.close()
    } finally {
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      })
    }
  })
})
