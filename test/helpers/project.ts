import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

const cli = path.join(import.meta.dirname, '..', '..', 'bin', 'tagpress.js')

/** A throwaway project folder with a `content/` of the given files. */
export class Project {
  readonly dir: string

  constructor(files: Record<string, string> = {}) {
    this.dir = mkdtempSync(path.join(tmpdir(), 'tagpress-test-'))
    for (const [name, text] of Object.entries(files)) this.write(name, text)
  }

  /** A copy of a project folder's `content/` and config. */
  static copyOf(root: string): Project {
    const project = new Project()
    cpSync(path.join(root, 'content'), path.join(project.dir, 'content'), {recursive: true})
    const config = path.join(root, 'tagpress.config.json')
    if (existsSync(config)) cpSync(config, path.join(project.dir, 'tagpress.config.json'))
    return project
  }

  write(name: string, text: string): void {
    const file = path.join(this.dir, 'content', name)
    mkdirSync(path.dirname(file), {recursive: true})
    writeFileSync(file, text)
  }

  remove(name: string): void {
    rmSync(path.join(this.dir, 'content', name))
  }

  /** Run the CLI in the project, as a user would. */
  run(...args: string[]): {status: number; stdout: string; stderr: string} {
    const result = spawnSync(process.execPath, [cli, ...args], {cwd: this.dir, encoding: 'utf8', env: {...process.env, CI: 'true'}})
    return {status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr}
  }

  /** `build --stats`, parsed. */
  build(...args: string[]): {status: number; stats: Record<string, unknown> & {compiled: number; pagesWritten: number}; stderr: string} {
    const result = this.run('build', '--stats', ...args)
    const line = result.stdout.trim().split('\n').pop() ?? '{}'
    return {status: result.status, stats: JSON.parse(line), stderr: result.stderr}
  }

  read(name: string): string {
    return readFileSync(path.join(this.dir, name), 'utf8')
  }

  /**
   * Every file under a folder of the project with the SHA-256 of its bytes, for
   * byte-for-byte comparison (a mismatch diff names the files that differ).
   */
  snapshot(folder = 'out'): Map<string, string> {
    const root = path.join(this.dir, folder)
    const files = new Map<string, string>()
    for (const entry of readdirSync(root, {recursive: true, encoding: 'utf8'}).sort()) {
      const file = path.join(root, entry)
      if (statSync(file).isFile()) files.set(entry, createHash('sha256').update(readFileSync(file)).digest('hex'))
    }
    return files
  }

  clean(folder: string): void {
    rmSync(path.join(this.dir, folder), {recursive: true, force: true})
  }

  dispose(): void {
    rmSync(this.dir, {recursive: true, force: true})
  }
}
