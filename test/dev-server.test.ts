import {existsSync, readFileSync, rmSync} from 'node:fs'
import path from 'node:path'
import type {Browser, Page} from 'playwright-core'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {browserAvailable, launch} from './helpers/browser.js'
import {startDev} from './helpers/dev.js'
import {Project} from './helpers/project.js'

// `tagpress dev` on a copy of the example site, driven in Chromium: edits on
// disk show up in the open page, errors in an overlay, files come and go in
// the navigation, and out/datasets always equals what a fresh build writes.
const repo = path.join(import.meta.dirname, '..')
const run = browserAvailable()
const datasets = ['blocks.jsonl', 'chapters.jsonl', 'qa.jsonl']

describe.runIf(run)('tagpress dev', {timeout: 240_000}, () => {
  let project: Project
  let browser: Browser
  let dev: Awaited<ReturnType<typeof startDev>>
  let page: Page

  beforeAll(async () => {
    project = Project.copyOf(repo)
    dev = await startDev(project.dir)
    browser = await launch()
    page = await (await browser.newContext({viewport: {width: 1280, height: 800}})).newPage()
  })

  afterAll(async () => {
    await browser?.close()
    await dev?.stop()
    project?.dispose()
  })

  /** Wait until the dev server's datasets equal a fresh build of the same content (bytes). */
  async function datasetsMatchFreshBuild(): Promise<void> {
    const fresh = Project.copyOf(project.dir)
    try {
      const result = fresh.run('build')
      expect(result.status === 0 || result.status === 1).toBe(true)
      const expected = datasets.map((name) => fresh.read('out/datasets/' + name))
      // Generous: the server builds at a lower priority (it yields to the edit's compile and the browser), so on a
      // machine busy with other work, as CI is with the other test files, its builds take many times as long.
      const deadline = Date.now() + 90_000
      let actual: string[] = []
      while (Date.now() < deadline) {
        // A dataset the first build (in the background) has not written yet reads as missing, not as an error.
        actual = datasets.map((name) => {
          const file = path.join(project.dir, 'out', 'datasets', name)
          return existsSync(file) ? readFileSync(file, 'utf8') : '(not written yet)'
        })
        if (actual.every((text, index) => text === expected[index])) return
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      // What the server said (its builds' status lines, a failed build) is what tells a slow build from a lost one.
      expect(actual, 'dev server output:\n' + dev.output()).toEqual(expected)
    } finally {
      fresh.dispose()
    }
  }

  it('serves a page and updates it in place when its Markdown changes, keeping the scroll position', async () => {
    await page.goto(dev.url + 'guide/intro.html')
    await page.waitForSelector('h1')
    await page.evaluate(() => {
      ;(window as unknown as {marker: number}).marker = 42
      window.scrollTo(0, 400)
    })
    const before = await page.evaluate(() => window.scrollY)
    const source = project.read('content/guide/intro.md')
    project.write('guide/intro.md', source.replace('This code block is another example', 'This code block, edited live, is another example'))
    await page.waitForFunction(() => document.querySelector('#tp-main')?.textContent?.includes('edited live'), undefined, {timeout: 10_000})
    expect(await page.locator('[data-tp-records]').textContent()).toContain('2 Q/A pairs')
    expect(await page.evaluate(() => (window as unknown as {marker?: number}).marker)).toBe(42)
    expect(Math.abs((await page.evaluate(() => window.scrollY)) - before)).toBeLessThanOrEqual(1)
    await datasetsMatchFreshBuild()
  })

  it('updates the "from this page" box when a question is added', async () => {
    const source = project.read('content/guide/intro.md')
    project.write('guide/intro.md', source + '\n[/Q]Is the box live?[Q/] [/A]Yes.[A/]\n')
    await page.waitForFunction(() => document.querySelector('[data-tp-records]')?.textContent?.includes('3 Q/A pairs'), undefined, {timeout: 10_000})
    project.write('guide/intro.md', source)
    await page.waitForFunction(() => document.querySelector('[data-tp-records]')?.textContent?.includes('2 Q/A pairs'), undefined, {timeout: 10_000})
    await datasetsMatchFreshBuild()
  })

  it('updates the outline in place, and the sidebar and title too when the title changes', async () => {
    project.write('guide/outline.md', '# Outline page\n\n## First part\n\nText.\n\n## Second part\n\nMore text.\n')
    await page.goto(dev.url + 'guide/intro.html')
    await page.locator('nav.tp-nav a[href$="guide/outline.html"]').waitFor({timeout: 10_000})
    await page.goto(dev.url + 'guide/outline.html')
    await page.locator('.tp-aside a[href="#second-part"]').waitFor()
    await page.evaluate(() => ((window as unknown as {marker: number}).marker = 7))
    // Same title (the sidebar holds): the page drops its outline, and the room kept for it.
    project.write('guide/outline.md', '# Outline page\n\nNo parts any more.\n')
    await page.locator('.tp-aside').waitFor({state: 'detached', timeout: 10_000})
    expect(await page.locator('.tp-layout').getAttribute('class')).toBe('tp-layout')
    project.write('guide/outline.md', '# Outline page\n\n## Only part\n\nBack.\n')
    await page.locator('.tp-aside a[href="#only-part"]').waitFor({timeout: 10_000})
    expect(await page.locator('.tp-layout').getAttribute('class')).toBe('tp-layout tp-has-toc')
    // A new title: the sidebar entry and the document title follow.
    project.write('guide/outline.md', '# Renamed page\n\n## Only part\n\nBack.\n')
    await page.locator('nav.tp-nav a[href$="guide/outline.html"]', {hasText: 'Renamed page'}).waitFor({timeout: 10_000})
    expect(await page.title()).toMatch(/^Renamed page \| /)
    // All of it in place: the page never reloaded.
    expect(await page.evaluate(() => (window as unknown as {marker?: number}).marker)).toBe(7)
    project.remove('guide/outline.md')
    await datasetsMatchFreshBuild()
  })

  it('shows a tag error in an overlay with its line, and clears it when fixed', async () => {
    const source = project.read('content/guide/intro.md')
    const broken = source.replace('[/Q]What does the block reader do?[Q/]', '[/Q]What does the block reader do?')
    project.write('guide/intro.md', broken)
    const overlay = page.locator('vite-error-overlay')
    await overlay.waitFor({timeout: 10_000}).catch((error: Error) => {
      throw new Error(error.message + '\ndev server output:\n' + dev.output())
    })
    const text = await overlay.evaluate((element) => element.shadowRoot?.textContent ?? '')
    const line = broken.split('\n').findIndex((row) => row.startsWith('[/Q]What does the block reader do?')) + 1
    expect(text).toContain(`intro.md:${line}:1`)
    expect(text).toContain('[TP001]')
    project.write('guide/intro.md', source)
    await overlay.waitFor({state: 'detached', timeout: 10_000})
    await datasetsMatchFreshBuild()
    expect(dev.child.exitCode).toBe(null)
  })

  it('adds a new file to the navigation and removes it again', async () => {
    project.write('guide/brand-new.md', '# A brand new page\n\n[/Q]Is it new?[Q/] [/A]Yes.[A/]\n')
    const link = page.locator('nav.tp-nav a[href$="guide/brand-new.html"]')
    await link.waitFor({timeout: 10_000})
    await datasetsMatchFreshBuild()
    project.remove('guide/brand-new.md')
    await link.waitFor({state: 'detached', timeout: 10_000})
    await datasetsMatchFreshBuild()
  })

  it('a page that loaded while a new file was applied asks for the navigation and shows the file', async () => {
    const version = async () => Number(await (await fetch(dev.url + '@tagpress/nav-version')).text())
    const before = await version()
    // Hold the dev client back: the page has its HTML, but nothing listens for the server's messages yet.
    let release = (): void => {}
    const held = new Promise<void>((resolve) => (release = resolve))
    let asked = (): void => {}
    const requested = new Promise<void>((resolve) => (asked = resolve))
    let continued: Promise<void> = Promise.resolve()
    await page.route('**/dev-client.ts*', (route) => {
      asked()
      continued = held.then(() => route.continue())
      return continued
    })
    await page.goto(dev.url + 'guide/intro.html', {waitUntil: 'commit'})
    await requested
    project.write('guide/late.md', '# Late page\n\nText.\n')
    // Applied, and its message sent, before the client listens.
    await expect.poll(version, {timeout: 10_000}).toBeGreaterThan(before)
    release()
    await continued
    await page.unroute('**/dev-client.ts*')
    await page.locator('nav.tp-nav a[href$="guide/late.html"]').waitFor({timeout: 10_000})
    expect(await page.locator('meta[name="tagpress-dev-nav"]').getAttribute('content')).toBe(String(await version()))
    project.remove('guide/late.md')
    await page.locator('nav.tp-nav a[href$="guide/late.html"]').waitFor({state: 'detached', timeout: 10_000})
  })

  it('never lets a navigation refresh that was under way undo a newer edit of the open page', async () => {
    await page.goto(dev.url + 'guide/intro.html')
    await page.waitForSelector('h1')
    const source = project.read('content/guide/intro.md')
    // The refresh a new file triggers gets the page as it was, and its answer is held back until after the edit.
    let fetched!: () => void
    const refreshFetched = new Promise<void>((resolve) => (fetched = resolve))
    let release!: () => void
    const released = new Promise<void>((resolve) => (release = resolve))
    let first = true
    await page.route('**/guide/intro.html', async (route) => {
      if (!first) return route.continue()
      first = false
      const response = await route.fetch()
      fetched()
      await released
      await route.fulfill({response})
    })
    try {
      project.write('guide/race-new.md', '# A page that changes the navigation\n')
      await refreshFetched
      project.write('guide/intro.md', source + '\nThe newest sentence of all.\n')
      await page.waitForFunction(() => document.querySelector('main')?.textContent?.includes('The newest sentence of all.'), undefined, {timeout: 10_000})
      release()
      // The held-back answer arrives; the page fetches again instead of showing it, and keeps the edit.
      await page.locator('nav.tp-nav a[href$="guide/race-new.html"]').waitFor({timeout: 10_000})
      await new Promise((resolve) => setTimeout(resolve, 500))
      expect(await page.evaluate(() => document.querySelector('main')?.textContent ?? '')).toContain('The newest sentence of all.')
    } finally {
      release()
      await page.unroute('**/guide/intro.html')
      project.write('guide/intro.md', source)
      project.remove('guide/race-new.md')
    }
  })
})

// A first start has no cache: the server answers before its first build is done, compiling a page when asked;
// the navigation is whole once that build is. (No browser needed: plain HTTP.)
describe('tagpress dev, first start', () => {
  it('serves a page at once and the whole navigation once the first build is done', async () => {
    const project = Project.copyOf(repo)
    const dev = await startDev(project.dir)
    try {
      const first = await fetch(dev.url + 'guide/intro.html')
      expect(first.status).toBe(200)
      expect(await first.text()).toContain('<h1')
      // Answered before the first build wrote out/: a cold build of the example takes seconds, one page far less.
      expect(existsSync(path.join(project.dir, 'out', 'manifest.json'))).toBe(false)
      // The first build writes out/ and its cache; after it, every page is in the navigation.
      const navLinks = (html: string): Set<string> => new Set([...(/<nav class="tp-nav[\s\S]*?<\/nav>/.exec(html)?.[0] ?? '').matchAll(/href="([^"#]+)"/g)].map((match) => match[1] as string))
      const deadline = Date.now() + 60_000
      let links = new Set<string>()
      while (Date.now() < deadline) {
        links = navLinks(await (await fetch(dev.url + 'guide/intro.html')).text())
        if (existsSync(path.join(project.dir, 'out', 'manifest.json')) && links.has('/reference/glossary.html')) break
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
      const manifest = JSON.parse(readFileSync(path.join(project.dir, 'out', 'manifest.json'), 'utf8')) as {sources: Record<string, unknown>}
      const pages = Object.keys(manifest.sources).filter((source) => source.endsWith('.md') && source !== 'index.md').map((source) => '/' + source.replace(/\.md$/, '.html'))
      expect(pages.length).toBeGreaterThan(10)
      for (const page of pages) expect(links, page).toContain(page)
    } finally {
      await dev.stop()
      project.dispose()
    }
  })

  it('serves a page whose compile the last session left unbuilt (and its build since deleted) by compiling it again', async () => {
    const project = Project.copyOf(repo)
    try {
      expect(project.run('build').status).toBe(0)
      // What a session killed before its build caught up leaves: the index names a compile that is gone.
      const index = JSON.parse(project.read('.tagpress/cache/files.json')) as {files: Record<string, {key: string}>}
      const key = index.files['guide/intro.md']!.key
      rmSync(path.join(project.dir, '.tagpress', 'cache', 'files', key.slice(0, 2), key))
      const dev = await startDev(project.dir)
      try {
        const response = await fetch(dev.url + 'guide/intro.html')
        expect(response.status).toBe(200)
        expect(await response.text()).toContain('<h1')
      } finally {
        await dev.stop()
      }
    } finally {
      project.dispose()
    }
  })
})
