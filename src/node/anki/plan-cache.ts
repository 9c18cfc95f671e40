import {readFileSync} from 'node:fs'
import {AsideFile} from '../fs/atomic.js'
import type {PublishedFile} from '../outputs/types.js'
import type {PlannedCard} from './plan.js'

const newline = Buffer.from('\n')

/**
 * Each source's planned cards from the previous build, in
 * `.tagpress/anki-plans.jsonl`, so an edit plans one file's cards instead of
 * reading every file's compiled detail again (at 10,000 files, seconds).
 * One line per source: `[source, key, time, cards]`; the first line holds
 * the hash of the settings the plans were made with. Only ever a shortcut:
 * a missing, damaged or foreign file means planning everything again.
 */
export class PlanCache {
  /**
   * The file as bytes, each line found by its range: decoded one line at a time, and written back as bytes. Read as
   * one string, its text stayed alive as long as any line did (slices share it), and one wide character (a `›` in a
   * question) makes V8 store all of it two bytes a character: 89 MB in the heap at 10,000 files instead of 45 off it.
   */
  private readonly bytes: Buffer | undefined
  private readonly lines = new Map<string, {key: string; time: number; start: number; end: number}>()
  /** This build's line of each source: the range of an unchanged one, or its new text as UTF-8 (half a wide string). */
  private readonly next = new Map<string, Buffer | {start: number; end: number}>()
  private changed = false

  constructor(
    private readonly file: string,
    private readonly settings: string
  ) {
    let bytes: Buffer
    try {
      bytes = readFileSync(file)
    } catch {
      return
    }
    const newline = bytes.indexOf(10)
    if (newline === -1 || bytes.toString('utf8', 0, newline) !== JSON.stringify(settings)) return
    this.bytes = bytes
    let start = newline + 1
    while (start < bytes.length) {
      let end = bytes.indexOf(10, start)
      if (end === -1) end = bytes.length
      // The head of a line is `["source","key",time,` : read it without decoding the cards.
      const cards = bytes.indexOf(',[', start)
      try {
        if (cards === -1 || cards > end) throw new Error('no cards')
        const head = JSON.parse(bytes.toString('utf8', start, cards) + ']') as [string, string, number]
        this.lines.set(head[0], {key: head[1], time: head[2], start, end})
      } catch {
        this.changed = true
      }
      start = end + 1
    }
  }

  /** The file's cards: from the cache when its compile and time are the same, else planned (and remembered). */
  cards(file: PublishedFile, plan: () => PlannedCard[]): PlannedCard[] {
    const cached = this.lines.get(file.source)
    if (cached && this.bytes && cached.key === file.key && cached.time === file.time) {
      try {
        const cards = (JSON.parse(this.bytes.toString('utf8', cached.start, cached.end)) as [string, string, number, PlannedCard[]])[3]
        this.next.set(file.source, {start: cached.start, end: cached.end})
        return cards
      } catch {
        // planned again below
      }
    }
    const cards = plan()
    // Stored before anything (deck case unification) changes the objects.
    this.next.set(file.source, Buffer.from(JSON.stringify([file.source, file.key, file.time, cards]) + '\n'))
    this.changed = true
    return cards
  }

  /** Write the plans of this build's sources (dropping the ones gone), when anything changed. */
  save(): void {
    if (!this.changed && this.next.size === this.lines.size) return
    // Line by line into a file aside, then renamed over: tens of megabytes never become one string.
    const out = new AsideFile(this.file)
    try {
      out.write(Buffer.from(JSON.stringify(this.settings) + '\n'))
      for (const source of [...this.next.keys()].sort()) {
        const line = this.next.get(source) as Buffer | {start: number; end: number}
        if (Buffer.isBuffer(line)) out.write(line)
        else {
          // With its newline, which the file's last line may lack.
          out.write((this.bytes as Buffer).subarray(line.start, line.end))
          out.write(newline)
        }
      }
      out.commit()
    } catch (error) {
      out.abort()
      throw error
    }
  }
}
