import {execFileSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import path from 'node:path'

/**
 * When each source last changed, in whole seconds: its last commit in git;
 * for a file with uncommitted changes the later of that and its file time;
 * outside git its file time. `SOURCE_DATE_EPOCH` is a floor. One `git log`
 * and one `git status` for the whole content folder; file times come from
 * the scan (`sources` maps each source to its mtime in ms).
 */
export function sourceTimes(contentDir: string, sources: ReadonlyMap<string, number>, env: NodeJS.ProcessEnv = process.env): Map<string, number> {
  const floor = Number(env.SOURCE_DATE_EPOCH) || 0
  const committed = new Map<string, number>()
  const dirty = new Set<string>()
  const repo = gitRepo(contentDir)
  if (repo) {
    const {top, head} = repo
    const prefix = path.relative(top, contentDir).split(path.sep).join('/')
    const strip = (file: string) => (prefix ? file.slice(prefix.length + 1) : file)
    // The history only changes with HEAD: a long-lived process (the dev server's builds) reads it once per commit.
    const known = lastLog?.contentDir === contentDir && lastLog.head === head ? lastLog.committed : undefined
    if (known) for (const [file, time] of known) committed.set(file, time)
    else {
      const log = head ? git(top, ['log', '--format=%x00%ct', '--name-only', '--no-renames', '--', prefix || '.']) : ''
      let time = 0
      for (const line of log.split('\n')) {
        if (line.startsWith('\0')) time = Number(line.slice(1))
        else if (line !== '') {
          const file = strip(line)
          if (!committed.has(file)) committed.set(file, time)
        }
      }
      lastLog = {contentDir, head, committed: new Map(committed)}
    }
    const status = git(top, ['status', '--porcelain', '-z', '--untracked-files=all', '--', prefix || '.'])
    for (const entry of status.split('\0')) if (entry.length > 3) dirty.add(strip(entry.slice(3)))
  }
  const times = new Map<string, number>()
  for (const [source, mtimeMs] of sources) {
    const commit = committed.get(source)
    let time = commit ?? 0
    if (commit === undefined || dirty.has(source)) time = Math.max(time, Math.floor(mtimeMs / 1000))
    times.set(source, Math.max(time, floor))
  }
  return times
}

let lastLog: {contentDir: string; head: string; committed: Map<string, number>} | undefined

/** The work tree's top folder and its HEAD commit (`''` before the first commit); undefined outside git. */
function gitRepo(dir: string): {top: string; head: string} | undefined {
  if (!insideGit(dir)) return undefined
  for (const args of [['rev-parse', '--show-toplevel', 'HEAD'], ['rev-parse', '--show-toplevel']]) {
    try {
      const [top, head] = git(dir, args).trim().split('\n')
      return top ? {top, head: head ?? ''} : undefined
    } catch {
      // Outside git, or no commit yet (then the second form answers).
    }
  }
  return undefined
}

function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, {cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 30})
}

/**
 * Whether `dir` may be inside a git work tree: a `.git` (folder, or file for worktrees and submodules) in it or a
 * folder above, or `GIT_DIR` set. Outside git this spares every build the processes that would say so (~25 ms each).
 */
export function insideGit(dir: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.GIT_DIR) return true
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    if (existsSync(path.join(at, '.git'))) return true
    if (path.dirname(at) === at) return false
  }
}
