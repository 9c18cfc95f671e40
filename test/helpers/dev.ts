import {spawn, type ChildProcess} from 'node:child_process'
import path from 'node:path'

const cli = path.join(import.meta.dirname, '..', '..', 'bin', 'tagpress.js')

/** Start `tagpress dev --port 0` in a project, as a user would; resolves with its URL once it is ready. */
export async function startDev(dir: string, extra: string[] = [], env: Record<string, string> = {}): Promise<{url: string; child: ChildProcess; output: () => string; stop: () => Promise<void>}> {
  const child = spawn(process.execPath, [cli, 'dev', '--port', '0', ...extra], {cwd: dir, env: {...process.env, CI: 'true', ...env}, stdio: ['ignore', 'pipe', 'pipe']})
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
    child,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      })
  }
}
