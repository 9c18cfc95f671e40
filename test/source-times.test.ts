import {execFileSync} from 'node:child_process'
import {mkdirSync, statSync, utimesSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {insideGit, sourceTimes} from '../src/node/build/source-times.js'
import {tempFolders} from './helpers/temp-folders.js'

// "Last updated" comes from git: a file's last commit, or its file time when it has uncommitted changes or is
// outside git. The history is read once per HEAD in a long-lived process (the dev server builds on every edit).

const tempDir = tempFolders('tagpress-times-')

function repo(): {content: string; git: (args: string[], date?: number) => void; write: (source: string, text: string, seconds: number) => void; mtimes: () => Map<string, number>} {
  const root = tempDir()
  const content = path.join(root, 'content')
  mkdirSync(content)
  const files = new Set<string>()
  return {
    content,
    git: (args, date) => {
      const dates = date === undefined ? {} : {GIT_AUTHOR_DATE: date + ' +0000', GIT_COMMITTER_DATE: date + ' +0000'}
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'commit.gpgsign=false', ...args], {cwd: root, stdio: 'ignore', env: {...process.env, ...dates}})
    },
    write: (source, text, seconds) => {
      const file = path.join(content, source)
      writeFileSync(file, text)
      utimesSync(file, seconds, seconds)
      files.add(source)
    },
    mtimes: () => new Map([...files].map((source) => [source, statSync(path.join(content, source)).mtimeMs]))
  }
}

function commitAt(r: ReturnType<typeof repo>, seconds: number, message: string): void {
  r.git(['add', '-A'])
  r.git(['commit', '-q', '-m', message], seconds)
}

describe('source times', () => {
  it('outside git, and before the first commit: the file times', () => {
    const r = repo()
    r.write('a.md', 'a', 1_600_000_000)
    expect(sourceTimes(r.content, r.mtimes(), {})).toEqual(new Map([['a.md', 1_600_000_000]]))
    r.git(['init', '-q'])
    expect(sourceTimes(r.content, r.mtimes(), {})).toEqual(new Map([['a.md', 1_600_000_000]]))
  })

  it('the last commit of a clean file, the later time of a changed one, and a new commit read again', () => {
    const r = repo()
    r.git(['init', '-q'])
    r.write('a.md', 'a', 1_900_000_000)
    r.write('b.md', 'b', 1_900_000_000)
    commitAt(r, 1_700_000_000, 'first')
    // Committed and clean: the commit's time, not the file's.
    expect(sourceTimes(r.content, r.mtimes(), {})).toEqual(new Map([['a.md', 1_700_000_000], ['b.md', 1_700_000_000]]))
    // Changed since: the later of the commit and the file time.
    r.write('b.md', 'b changed', 1_800_000_000)
    expect(sourceTimes(r.content, r.mtimes(), {}).get('b.md')).toBe(1_800_000_000)
    // A new commit moves HEAD: the history is read again (not the one remembered for the old HEAD).
    commitAt(r, 1_750_000_000, 'second')
    expect(sourceTimes(r.content, r.mtimes(), {})).toEqual(new Map([['a.md', 1_700_000_000], ['b.md', 1_750_000_000]]))
    // SOURCE_DATE_EPOCH is a floor.
    expect(sourceTimes(r.content, r.mtimes(), {SOURCE_DATE_EPOCH: '1720000000'}).get('a.md')).toBe(1_720_000_000)
  })

  it('asks git only where a .git is, in the folder or one above (a worktree\'s .git is a file), or GIT_DIR says', () => {
    const root = tempDir()
    const deep = path.join(root, 'a', 'b')
    mkdirSync(deep, {recursive: true})
    expect(insideGit(deep, {})).toBe(false)
    expect(insideGit(deep, {GIT_DIR: path.join(root, 'elsewhere')})).toBe(true)
    writeFileSync(path.join(root, 'a', '.git'), 'gitdir: ' + path.join(root, 'elsewhere') + '\n')
    expect(insideGit(deep, {})).toBe(true)
    expect(insideGit(root, {})).toBe(false)
  })
})
