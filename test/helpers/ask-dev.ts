import {spawn} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {startStandin, type Standin} from './ollama-standin.js'
import type {Project} from './project.js'

const cli = path.join(import.meta.dirname, '..', '..', 'bin', 'tagpress.js')

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
  const env = {...process.env, CI: 'true', OLLAMA_HOST: standin.url, TAGPRESS_MODEL: model}
  const child = spawn(process.execPath, [cli, 'dev', '--port', '0'], {cwd: project.dir, env, stdio: ['ignore', 'pipe', 'pipe']})
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('dev server did not start:\n' + output)), 120_000)
    const check = (): void => {
      const match = /ready at (http:\/\/\S+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(match[1] as string)
      }
    }
    child.stderr?.on('data', check)
    child.stdout?.on('data', check)
    child.on('exit', (code) => reject(new Error('dev server exited with ' + code + ':\n' + output)))
  })
  return {
    url,
    standin,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve())
          child.kill('SIGTERM')
        })
      }
      await standin.close()
    },
  }
}
