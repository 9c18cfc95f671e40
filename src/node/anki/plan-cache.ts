import {closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync} from 'node:fs'
import path from 'node:path'
import {asideName, replaceSync} from '../fs/atomic.js'
import type {PublishedFile} from '../outputs/types.js'
import type {PlannedCard} from './plan.js'

/**
 * Each source's planned cards from the previous build, in
 * `.tagpress/anki-plans.jsonl`, so an edit plans one file's cards instead of
 * reading every file's compiled detail again (at 10,000 files, seconds).
 * One line per source: `[source, key, time, cards]`; the first line holds
 * the hash of the settings the plans were made with. Only ever a shortcut:
 * a missing, damaged or foreign file means planning everything again.
 */
export class PlanCache {
  private readonly lines = new Map<string, {key: string; time: number; line: string}>()
  private readonly next = new Map<string, string>()
  private changed = false

  constructor(
    private readonly file: string,
    private readonly settings: string
  ) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      return
    }
    const newline = text.indexOf('\n')
    if (newline === -1 || text.slice(0, newline) !== JSON.stringify(settings)) return
    let start = newline + 1
    while (start < text.length) {
      let end = text.indexOf('\n', start)
      if (end === -1) end = text.length
      const line = text.slice(start, end)
      start = end + 1
      // The head of a line is `["source","key",time,` : read it without parsing the cards.
      try {
        const head = JSON.parse(line.slice(0, line.indexOf(',[')) + ']') as [string, string, number]
        this.lines.set(head[0], {key: head[1], time: head[2], line})
      } catch {
        this.changed = true
      }
    }
  }

  /** The file's cards: from the cache when its compile and time are the same, else planned (and remembered). */
  cards(file: PublishedFile, plan: () => PlannedCard[]): PlannedCard[] {
    const cached = this.lines.get(file.source)
    if (cached && cached.key === file.key && cached.time === file.time) {
      try {
        const cards = (JSON.parse(cached.line) as [string, string, number, PlannedCard[]])[3]
        this.next.set(file.source, cached.line)
        return cards
      } catch {
        // planned again below
      }
    }
    const cards = plan()
    // Stored before anything (deck case unification) changes the objects.
    this.next.set(file.source, JSON.stringify([file.source, file.key, file.time, cards]))
    this.changed = true
    return cards
  }

  /** Write the plans of this build's sources (dropping the ones gone), when anything changed. */
  save(): void {
    if (!this.changed && this.next.size === this.lines.size) return
    // Line by line into a file aside, then renamed over: tens of megabytes never become one string.
    const aside = asideName(this.file)
    mkdirSync(path.dirname(this.file), {recursive: true})
    const fd = openSync(aside, 'w')
    try {
      writeSync(fd, JSON.stringify(this.settings) + '\n')
      for (const source of [...this.next.keys()].sort()) writeSync(fd, (this.next.get(source) as string) + '\n')
      closeSync(fd)
      replaceSync(aside, this.file)
    } catch (error) {
      try {
        closeSync(fd)
      } catch {
        // closed already
      }
      rmSync(aside, {force: true})
      throw error
    }
  }
}
