import {existsSync, mkdirSync} from 'node:fs'
import type {Server} from 'node:http'
import path from 'node:path'
import type {Browser, Page} from 'playwright-core'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {axeViolations, browserAvailable, launch, serveSite} from './helpers/browser.js'
import {Project} from './helpers/project.js'

// The example site (content/), built as a user would, served like a static
// host, driven in Chromium. Screenshots go to test-results/ (ignored).
const repo = path.join(import.meta.dirname, '..')
const shots = path.join(repo, 'test-results', 'site')
const run = browserAvailable()

describe.runIf(run)('the built site in a browser', () => {
  let project: Project
  let browser: Browser
  let server: Server
  let base: string

  beforeAll(async () => {
    project = Project.copyOf(repo)
    const result = project.run('build')
    if (result.status !== 0) throw new Error('build failed:\n' + result.stderr)
    const served = await serveSite(path.join(project.dir, 'out', 'site'))
    server = served.server
    base = served.url
    browser = await launch()
    mkdirSync(shots, {recursive: true})
  })

  afterAll(async () => {
    await browser?.close()
    server?.close()
    project?.dispose()
  })

  async function open(width: number, dark: boolean, url = base): Promise<Page> {
    const context = await browser.newContext({viewport: {width, height: 900}, colorScheme: dark ? 'dark' : 'light'})
    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text())
    })
    await page.goto(url)
    ;(page as Page & {errors: string[]}).errors = errors
    return page
  }

  it('follows the navigation to a nested page and jumps to a Q/A anchor', async () => {
    const page = await open(1280, false)
    await page.locator('nav[aria-label="Site"] a[href$="guide/tags/questions-and-answers.html"]').first().click()
    await page.waitForURL(/guide\/tags\/questions-and-answers\.html$/)
    expect(await page.locator('h1').first().textContent()).toMatch(/question/i)
    const question = page.locator('.tp-question[id]').first()
    const id = await question.getAttribute('id')
    await page.locator(`a.tp-anchor[href="#${id}"]`).click()
    await page.waitForURL(new RegExp(`#${id}$`))
    expect(await page.evaluate((target) => document.querySelector(':target')?.id === target, id)).toBe(true)
    const box = await question.boundingBox()
    expect(box && box.y >= 0 && box.y < 900).toBe(true)
    expect((page as Page & {errors: string[]}).errors).toEqual([])
    await page.context().close()
  })

  it('finds a question with the search', async () => {
    const page = await open(1280, false)
    await page.keyboard.press('/')
    const input = page.getByRole('searchbox').or(page.locator('[role="dialog"] input')).first()
    await input.waitFor()
    await input.fill('block reader')
    const result = page.locator('[role="dialog"] [role="option"]').first()
    await result.waitFor()
    expect(await page.locator('[role="dialog"] [role="option"]').count()).toBeGreaterThan(0)
    await page.keyboard.press('Enter')
    await page.waitForURL(/\.html/)
    expect(page.url()).not.toBe(base)
    await page.context().close()
  })

  it('lists every output on the Datasets page with the manifest\'s counts and hashes, and serves each file', async () => {
    const manifest = JSON.parse(project.read('out/manifest.json')) as {outputs: Record<string, {records?: number; sha256: string}>}
    const page = await open(1280, false, base)
    await page.locator('nav[aria-label="Site"] a[href$="downloads/index.html"]').first().click()
    await page.waitForURL(/downloads\/index\.html$/)
    const rows = await page.$$eval('table.tp-downloads tbody tr', (trs) =>
      trs.map((tr) => ({
        file: tr.getAttribute('data-file'),
        records: tr.children[1]?.textContent ?? '',
        sha256: tr.querySelector('[data-sha256]')?.getAttribute('data-sha256'),
        href: tr.querySelector('a')?.getAttribute('href')
      }))
    )
    const expected = Object.entries(manifest.outputs).filter(([file]) => file !== 'site' && !file.startsWith('site/'))
    expect(rows.map((row) => row.file)).toEqual(expected.map(([file]) => file))
    for (const [file, entry] of expected) {
      const row = rows.find((candidate) => candidate.file === file)
      expect(row?.sha256, file).toBe(entry.sha256)
      expect(row?.records, file).toBe(String(entry.records ?? ''))
      const bytes = await page.evaluate(async (href) => {
        const response = await fetch(href as string)
        const digest = await crypto.subtle.digest('SHA-256', await response.arrayBuffer())
        return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, '0')).join('')
      }, row?.href)
      expect(bytes, file).toBe(entry.sha256)
    }
    await page.context().close()
  })

  it('gives training commands that name files the build wrote', async () => {
    const page = await open(1280, false, base + 'downloads/train.html')
    const commands = await page.$$eval('main pre code', (codes) => codes.map((code) => code.textContent ?? ''))
    const paths = commands.flatMap((command) => [...command.matchAll(/(?:^|\s)(out\/\S+)/g)].map((match) => match[1] as string))
    expect(paths.length).toBeGreaterThan(2)
    for (const file of paths.filter((candidate) => !candidate.startsWith('out/lora'))) {
      expect(existsSync(path.join(project.dir, file)), file).toBe(true)
    }
    await page.context().close()
  })

  it('shows what each page gives the datasets', async () => {
    const page = await open(1280, false, base + 'guide/intro.html')
    const box = page.locator('[data-tp-records]')
    expect(await box.textContent()).toContain('2 Q/A pairs · 8 block items · 1 chapter item')
    const slice = await page.evaluate(async () => {
      const href = document.querySelector('[data-tp-records] a')?.getAttribute('href') as string
      return (await (await fetch(href)).json()) as {qa: unknown[]; blocks: unknown[]; chapters: unknown[]}
    })
    expect([slice.qa.length, slice.blocks.length, slice.chapters.length]).toEqual([2, 8, 1])
    await page.context().close()
  })

  for (const width of [375, 1280]) {
    for (const dark of [false, true]) {
      it(`reads well and passes axe at ${width} px, ${dark ? 'dark' : 'light'}`, async () => {
        const page = await open(width, dark, base + 'guide/intro.html')
        await page.screenshot({path: path.join(shots, `intro-${width}-${dark ? 'dark' : 'light'}.png`), fullPage: true})
        const home = await open(width, dark, base)
        await home.screenshot({path: path.join(shots, `home-${width}-${dark ? 'dark' : 'light'}.png`)})
        await home.context().close()
        expect(await page.evaluate(() => document.documentElement.classList.contains('dark'))).toBe(dark)
        const metrics = await page.evaluate(() => {
          const paragraph = [...document.querySelectorAll('main p')].sort((a, b) => (b.textContent?.length ?? 0) - (a.textContent?.length ?? 0))[0] as HTMLElement
          const style = getComputedStyle(paragraph)
          const probe = document.createElement('span')
          probe.style.cssText = `font:${style.font};letter-spacing:${style.letterSpacing};white-space:nowrap;position:absolute;visibility:hidden`
          probe.textContent = paragraph.textContent ?? ''
          document.body.append(probe)
          const charWidth = probe.getBoundingClientRect().width / (paragraph.textContent?.length ?? 1)
          probe.remove()
          return {
            fontSize: parseFloat(style.fontSize),
            charsPerLine: paragraph.clientWidth / charWidth,
            overflow: document.documentElement.scrollWidth - window.innerWidth
          }
        })
        expect(metrics.fontSize).toBeGreaterThanOrEqual(16)
        expect(metrics.overflow).toBeLessThanOrEqual(0)
        if (width === 1280) {
          expect(metrics.charsPerLine).toBeGreaterThanOrEqual(60)
          expect(metrics.charsPerLine).toBeLessThanOrEqual(80)
        }
        expect(await axeViolations(page)).toEqual([])
        await page.context().close()
      })
    }
  }
})
