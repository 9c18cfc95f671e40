/**
 * One line of progress on a terminal (`compiling 120/1000 files, 340 files/s`),
 * redrawn in place at most ten times a second; nothing at all when output is
 * piped or in CI, so logs stay clean.
 */
export class Progress {
  private readonly enabled: boolean
  private lastDraw = 0
  private started = 0
  private label = ''
  private total = 0
  private shown = false

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr, enabled?: boolean) {
    this.enabled = enabled ?? (stream.isTTY === true && !process.env.CI)
  }

  start(label: string, total: number): void {
    this.label = label
    this.total = total
    this.started = performance.now()
    this.lastDraw = 0
  }

  tick(done: number): void {
    if (!this.enabled) return
    const now = performance.now()
    if (now - this.lastDraw < 100 && done < this.total) return
    this.lastDraw = now
    const seconds = (now - this.started) / 1000
    const rate = seconds > 0 ? Math.round(done / seconds) : 0
    this.stream.write('\r\x1b[2K' + this.label + ' ' + done + '/' + this.total + ' files, ' + rate + ' files/s')
    this.shown = true
  }

  done(): void {
    if (this.enabled && this.shown) this.stream.write('\r\x1b[2K')
    this.shown = false
  }
}
