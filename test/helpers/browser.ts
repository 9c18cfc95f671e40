import {existsSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {chromium, type Browser, type Page} from 'playwright-core'
import {createStaticHandler} from '../../src/node/server/static.js'

/** Debian's Chromium (or `CHROME_PATH`); undefined when there is none. */
export function chromiumPath(): string | undefined {
  const candidates = [process.env.CHROME_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']
  return candidates.find((candidate): candidate is string => Boolean(candidate && existsSync(candidate)))
}

/**
 * Whether browser tests can run. On a user's machine without Chromium they
 * skip with a message; in CI (`CI=true`) a missing browser is a failure.
 */
export function browserAvailable(): boolean {
  if (chromiumPath()) return true
  if (process.env.CI === 'true') throw new Error('No Chromium found (set CHROME_PATH, or run scripts/setup/chromium.sh); browser tests cannot be skipped in CI')
  console.warn('Skipping browser tests: no Chromium found (install Debian\'s `chromium` or set CHROME_PATH)')
  return false
}

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath() as string,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-quic', '--no-first-run', '--disable-sync']
  })
}

/** Serve a built site folder on a free loopback port. */
export async function serveSite(root: string, base = '/'): Promise<{url: string; server: Server}> {
  const handle = createStaticHandler(root, base)
  const server = createServer((request, response) => {
    if (!handle(request, response)) {
      response.writeHead(404)
      response.end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {url: `http://127.0.0.1:${port}${base}`, server}
}

/** Run axe-core on the page; returns the serious and critical violations. */
export async function axeViolations(page: Page): Promise<Array<{id: string; impact: string; nodes: string[]}>> {
  const axe = await import('axe-core')
  await page.addScriptTag({content: axe.default.source})
  return page.evaluate(async () => {
    const result = await (window as unknown as {axe: {run: (context: Document, options: object) => Promise<{violations: Array<{id: string; impact: string; nodes: Array<{target: string[]}>}>}>}}).axe.run(document, {resultTypes: ['violations']})
    return result.violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map((violation) => ({id: violation.id, impact: violation.impact, nodes: violation.nodes.map((node) => node.target.join(' '))}))
  })
}
