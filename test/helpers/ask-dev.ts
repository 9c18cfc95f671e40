import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {startDev} from './dev.js'
import {startStandin, type Standin} from './ollama-standin.js'
import type {Project} from './project.js'

export interface AskDev {
  url: string
  standin: Standin
  output: () => string
  stop: () => Promise<void>
}

/**
 * `tagpress dev --port 0` in a project whose model backend is the stand-in
 * Ollama (started here, on loopback): `OLLAMA_HOST` and `TAGPRESS_MODEL` in
 * the server's environment (they win over `tagpress.config.json`), and the
 * same in the config file, so `tagpress ask` in the project agrees.
 */
export async function startAskDev(project: Project, options: {model?: string; config?: Record<string, unknown>} = {}): Promise<AskDev> {
  const standin = await startStandin()
  const model = options.model ?? 'qwen2.5:0.5b'
  writeFileSync(path.join(project.dir, 'tagpress.config.json'), JSON.stringify({site: {title: 'tagpress'}, ...options.config, llm: {host: standin.url, model}}, null, 2))
  // The server's timing log says when its first build (in the background) is adopted: the pages then refresh in place
  // once, which would cut short a smooth scroll that a test is watching. Under the whole suite's load that build
  // took long enough to land mid-test; the tests start after it.
  const dev = await startDev(project.dir, [], {OLLAMA_HOST: standin.url, TAGPRESS_MODEL: model, TAGPRESS_DEBUG_TIMING: '1'})
  const deadline = Date.now() + 120_000
  while (!dev.output().includes('timing: first build adopted')) {
    if (Date.now() > deadline) throw new Error('the dev server\'s first build did not finish:\n' + dev.output())
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {
    url: dev.url,
    standin,
    output: dev.output,
    stop: async () => {
      await dev.stop()
      await standin.close()
    },
  }
}
