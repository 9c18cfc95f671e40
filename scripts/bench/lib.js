// Shared helpers for the benchmark suites.
import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {cpus, totalmem} from 'node:os'

export const repo = new URL('../../', import.meta.url).pathname

/** Run a node script, parse the last JSON line it prints. */
export function runJson(args, options = {}) {
  const result = spawnSync(process.execPath, args, {encoding: 'utf8', maxBuffer: 1 << 28, env: {...process.env, CI: 'true'}, ...options})
  const line = result.stdout.trim().split('\n').pop()
  if (!line?.startsWith('{')) throw new Error('No JSON from ' + args.join(' ') + ':\n' + result.stderr + result.stdout)
  return JSON.parse(line)
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

export function machine() {
  const cpu = cpus()
  return `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${process.platform}`
}

export function seconds(ms) {
  return ms >= 1000 ? (ms / 1000).toFixed(2) + ' s' : ms.toFixed(0) + ' ms'
}

export function megabytes(kb) {
  return (kb / 1024).toFixed(0) + ' MB'
}

/**
 * CPU steal from here on (Linux): the share of this VM's CPU time the host took for others.
 * On a shared host it explains a bad minute; `stolen()` gives a fraction, or undefined where /proc/stat is missing.
 */
export function stealMeter() {
  const read = () => {
    try {
      const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number)
      return {steal: fields[7] ?? 0, total: fields.reduce((sum, value) => sum + value, 0)}
    } catch {
      return undefined
    }
  }
  const start = read()
  return {
    stolen() {
      const end = read()
      if (!start || !end || end.total === start.total) return undefined
      return (end.steal - start.steal) / (end.total - start.total)
    }
  }
}
