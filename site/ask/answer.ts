/**
 * One answer as it streams (docs/ask.md, "Rendering rule"): final blocks are
 * appended once and never touched again; the open block is replaced on each
 * event. A stored answer (finished or failed) is rendered whole.
 */
import {renderBlocks, type RenderContext} from './dom'
import {h} from './h'
import {blocksText, parseMarkdown} from './markdown'
import type {AnswerEvent, Source} from './types'

export class AnswerView implements RenderContext {
  readonly element: HTMLElement
  private finals = 0
  private open: HTMLElement | null = null
  private sources = new Map<string, Source>()
  private markdown = ''

  constructor(private readonly announce: (text: string) => void) {
    this.element = h('div', {class: 'tp-ask-answer'})
  }

  source(label: string): Source | undefined {
    return this.sources.get(label)
  }

  setSources(sources: readonly Source[]): void {
    this.sources = new Map(sources.map((source) => [source.label, source]))
  }

  /** The Markdown received so far. */
  text(): string {
    return this.markdown
  }

  /** How many blocks are final. */
  finalCount(): number {
    return this.finals
  }

  reset(): void {
    this.element.replaceChildren()
    this.finals = 0
    this.open = null
    this.markdown = ''
  }

  apply(event: AnswerEvent): void {
    this.markdown += event.delta
    for (const block of event.final) {
      if (block.i < this.finals) continue // each index comes once; never re-rendered
      const parsed = parseMarkdown(block.md)
      const element = this.block(parsed, {'data-i': block.i})
      if (this.open !== null) this.open.before(element)
      else this.element.append(element)
      this.finals = block.i + 1
      const text = blocksText(parsed)
      if (text !== '') this.announce(text)
    }
    const open = event.open !== null && event.open.md.trim() !== '' ? event.open : null
    if (open === null) {
      this.open?.remove()
      this.open = null
      return
    }
    const element = this.block(parseMarkdown(open.md), {'data-open': '', class: 'tp-ask-block tp-ask-block-open'})
    if (this.open !== null) this.open.replaceWith(element)
    else this.element.append(element)
    this.open = element
  }

  /** A stored answer, all at once. */
  renderWhole(markdown: string): void {
    this.reset()
    this.markdown = markdown
    if (markdown.trim() !== '') this.element.append(this.block(parseMarkdown(markdown), {}))
  }

  private block(blocks: ReturnType<typeof parseMarkdown>, props: Record<string, string | number>): HTMLElement {
    const element = h('div', {class: 'tp-ask-block', ...props})
    element.append(renderBlocks(blocks, this))
    return element
  }
}
