/**
 * One node's event stream (`GET <base>api/nodes/:id/stream`, Server-Sent
 * Events): `start`, `answer`…, then `done` or `failed`. EventSource
 * reconnects by itself after a network drop, sending `Last-Event-ID`, and the
 * server resumes after that event; events are still checked by their id
 * (`<attempt>-<seq>`) so none is applied twice. After `done` or `failed` the
 * source is closed (docs/ask.md: clients should). A stream that ends without
 * either (the server answered 204 or an error, or went away for good) is
 * `lost`: the caller reads the node and decides.
 */
import type {AnswerEvent, DoneEvent, FailedEvent, StartEvent} from './types'

export interface StreamHandlers {
  start(data: StartEvent): void
  answer(data: AnswerEvent): void
  done(data: DoneEvent): void
  failed(data: FailedEvent): void
  /** True while EventSource is reconnecting after a drop, false once it is connected. */
  reconnecting(on: boolean): void
  /** Closed without `done` or `failed`; `lastId` is the last event applied. */
  lost(lastId: string | undefined): void
}

const NAMES = ['start', 'answer', 'done', 'failed'] as const

export class NodeStream {
  private readonly source: EventSource
  private attempt: number
  private seq: number
  private closed = false
  lastId: string | undefined

  /** `after`: the id of the last event already applied (a resumed stream). */
  constructor(url: string, private readonly handlers: StreamHandlers, after?: string) {
    const [attempt, seq] = parseId(after)
    this.attempt = attempt
    this.seq = seq
    this.lastId = after
    this.source = new EventSource(url)
    for (const name of NAMES) this.source.addEventListener(name, (event) => this.receive(name, event as MessageEvent<string>))
    this.source.addEventListener('open', () => handlers.reconnecting(false))
    this.source.addEventListener('error', () => {
      if (this.closed) return
      if (this.source.readyState === EventSource.CLOSED) {
        this.close()
        handlers.lost(this.lastId)
      } else {
        handlers.reconnecting(true)
      }
    })
  }

  close(): void {
    this.closed = true
    this.source.close()
  }

  private receive(name: (typeof NAMES)[number], event: MessageEvent<string>): void {
    if (this.closed) return
    const [attempt, seq] = parseId(event.lastEventId)
    if (attempt < this.attempt || (attempt === this.attempt && seq <= this.seq)) return // already applied
    this.attempt = attempt
    this.seq = seq
    this.lastId = event.lastEventId
    let data: unknown
    try {
      data = JSON.parse(event.data)
    } catch {
      return
    }
    if (name === 'done' || name === 'failed') this.close()
    try {
      if (name === 'start') this.handlers.start(data as StartEvent)
      else if (name === 'answer') this.handlers.answer(data as AnswerEvent)
      else if (name === 'done') this.handlers.done(data as DoneEvent)
      else this.handlers.failed(data as FailedEvent)
    } catch (error) {
      console.error('tagpress: ask: could not apply a `' + name + '` event', error)
    }
  }
}

function parseId(id: string | undefined): [number, number] {
  const match = /^(\d+)-(\d+)$/.exec(id ?? '')
  return match ? [Number(match[1]), Number(match[2])] : [0, 0]
}
