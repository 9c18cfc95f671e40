import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {spawnSync} from 'node:child_process'
import {gzipSync} from 'node:zlib'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {mixBatches} from '../src/node/datasets/mix.js'

const cli = path.join(import.meta.dirname, '..', 'bin', 'tagpress.js')
let dir: string

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tagpress-mix-'))
  writeFileSync(path.join(dir, 'a.jsonl'), Array.from({length: 100}, (_, i) => JSON.stringify({source: 'a', i, text: 'é ✓ ' + i}) + '\n').join(''))
  // CRLF line ends, a blank line and no final newline: all accepted.
  writeFileSync(path.join(dir, 'b.jsonl'), Array.from({length: 50}, (_, i) => JSON.stringify({source: 'b', i})).join('\r\n') + '\r\n\r\n' + JSON.stringify({source: 'b', i: 50}))
  writeFileSync(path.join(dir, 'c.jsonl.gz'), gzipSync(Array.from({length: 30}, (_, i) => JSON.stringify({source: 'c', i}) + '\n').join('')))
  writeFileSync(path.join(dir, 'bad.jsonl'), '{"ok":1}\n{"ok":2}\n{"ok":\n{"ok":4}\n')
})
afterAll(() => rmSync(dir, {recursive: true, force: true}))

function mix(...args: string[]): {status: number; stdout: string; stderr: string} {
  const result = spawnSync(process.execPath, [cli, 'mix', ...args], {cwd: dir, encoding: 'utf8', env: {...process.env, CI: 'true'}})
  return {status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr}
}

function records(stdout: string): Array<{source: string; i: number}> {
  return stdout.trimEnd().split('\n').map((line) => JSON.parse(line))
}

describe('tagpress mix', () => {
  it('takes the asked number from each source, without repeats, shuffled', () => {
    const result = mix('a.jsonl:30', 'b.jsonl:20', 'c.jsonl.gz:5', '--seed', '1')
    expect(result.status).toBe(0)
    expect(result.stderr).toBe('')
    const mixed = records(result.stdout)
    expect(mixed).toHaveLength(55)
    const by = (source: string) => mixed.filter((record) => record.source === source)
    expect(by('a')).toHaveLength(30)
    expect(by('b')).toHaveLength(20)
    expect(by('c')).toHaveLength(5)
    expect(new Set(mixed.map((record) => record.source + record.i)).size).toBe(55)
    // Shuffled across sources, not one source after the other.
    expect(mixed.slice(0, 30).every((record) => record.source === 'a')).toBe(false)
    // Lines are copied as they are (UTF-8 intact), each ending in \n.
    expect(result.stdout).toMatch(/"text":"é ✓ \d+"/)
    expect(result.stdout.endsWith('\n')).toBe(true)
  })

  it('is deterministic for a seed and differs between seeds', () => {
    const first = mix('a.jsonl:10', 'b.jsonl:10', '--seed', '7')
    const again = mix('a.jsonl:10', 'b.jsonl:10', '--seed', '7')
    expect([again.status, again.stderr]).toEqual([0, ''])
    const one = first.stdout
    expect(again.stdout).toBe(one)
    expect(mix('a.jsonl:10', 'b.jsonl:10', '--seed', '8').stdout).not.toBe(one)
    const file = path.join(dir, 'mixed.jsonl')
    expect(mix('a.jsonl:10', 'b.jsonl:10', '--seed', '7', '-o', file).status).toBe(0)
    expect(readFileSync(file, 'utf8')).toBe(one)
  })

  it('takes a whole source given without a count', () => {
    expect(records(mix('b.jsonl', 'c.jsonl.gz').stdout)).toHaveLength(51 + 30)
  })

  it('fails on a source with fewer records than asked, unless --allow-short', () => {
    const short = mix('a.jsonl:10', 'b.jsonl:500')
    expect(short.status).toBe(2)
    expect(short.stdout).toBe('')
    expect(short.stderr).toBe('tagpress: b.jsonl has 51 records, fewer than the 500 asked for (pass --allow-short to take them all)\n')
    const allowed = mix('a.jsonl:10', 'b.jsonl:500', '--allow-short')
    expect(allowed.status).toBe(0)
    expect(records(allowed.stdout)).toHaveLength(61)
  })

  it('fails on a malformed line, naming the file and the line', () => {
    const result = mix('a.jsonl:5', 'bad.jsonl:2')
    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(/^tagpress: bad\.jsonl:3: not valid JSON/)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(mix('missing.jsonl:3').stderr).toBe('tagpress: No such file: missing.jsonl\n')
    expect(mix('a.jsonl:x').status).toBe(2)
  })

  it('samples uniformly', async () => {
    const hits = new Array(100).fill(0)
    for (let seed = 0; seed < 1000; seed++) {
      for await (const batch of mixBatches({sources: [{file: path.join(dir, 'a.jsonl'), count: 10}], seed})) {
        for (const line of (batch.raw as Buffer).toString('utf8').trimEnd().split('\n')) hits[JSON.parse(line).i]++
      }
    }
    // Each line is chosen with probability 1/10: 100 times in 1000 runs, give or take.
    expect(Math.min(...hits)).toBeGreaterThan(60)
    expect(Math.max(...hits)).toBeLessThan(140)
  })
})
