/**
 * One line of progress for streaming commands (`exporting 120,000 records,
 * 48 MB, 160 MB/s`), on stderr, redrawn at most ten times a second; nothing
 * when stderr is not a terminal or in CI, so stdout carries records only.
 */
export class StreamProgress {
  private readonly enabled: boolean
  private readonly started = performance.now()
  private lastDraw = 0
  private shown = false

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    enabled?: boolean
  ) {
    this.enabled = enabled ?? (stream.isTTY === true && !process.env.CI)
  }

  update(records: number, bytes: number, unit = 'records'): void {
    if (!this.enabled) return
    const now = performance.now()
    if (now - this.lastDraw < 100) return
    this.lastDraw = now
    const seconds = (now - this.started) / 1000
    const rate = seconds > 0 ? bytes / 1e6 / seconds : 0
    this.stream.write(`\r\x1b[2K${this.label} ${records.toLocaleString('en')} ${unit}, ${(bytes / 1e6).toFixed(1)} MB, ${rate.toFixed(0)} MB/s`)
    this.shown = true
  }

  done(): void {
    if (this.enabled && this.shown) this.stream.write('\r\x1b[2K')
    this.shown = false
  }
}
