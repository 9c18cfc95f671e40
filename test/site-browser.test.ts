import {mkdirSync} from 'node:fs'
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
