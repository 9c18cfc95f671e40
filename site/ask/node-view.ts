/**
 * One question node of a conversation tree: the question, the answer (live
 * from the node's event stream while it is `streaming`, else as stored), the
 * failure with its reason, the cited sections, the actions its state allows
 * (Stop while streaming; Reply on immutable and failed nodes; Recall on a
 * failed node without replies; Copy once there is text), an inline reply form
 * and the replies, nested.
 */
import {ApiError, type AskApi} from './api'
import {AnswerView} from './answer'
import {ownHref} from './dom'
import {button, h, icon} from './h'
import {NodeStream} from './stream'
import type {ApiNode, Asked, FailureReason, Source} from './types'

export interface NodeHost {
  api: AskApi
  /** The page being read (file id), when it has a Markdown source. */
  page: string | undefined
  base: string
  announce(text: string): void
  /** A node was asked or answered again: tell the other tabs. */
  changed(session: string): void
  /** A reply was created under a node. */
  added(asked: Asked): void
  /** An API error of an action (rate limit, offline, conflict …). */
  failed(error: unknown, where: HTMLElement): void
  /** Keep the newest text in view while the reader is at the end. */
  follow(): void
  /** Whether asking is possible now (online, backend present, not rate-limited). */
  canAsk(): boolean
  /** Copy text, with feedback on the button. */
  copy(text: string, button: HTMLElement): void
}

export const REASONS: Record<FailureReason, string> = {
  backend_down: 'No model server',
  model_missing: 'The model is not installed',
  backend_error: 'The model server reported an error',
  stream_cut: 'The answer was cut off',
  timeout: 'The model took too long',
  stopped: 'Stopped',
  restart: 'Interrupted: the server stopped',
  store_error: 'The answer could not be saved',
}

let uid = 0

export class NodeView {
  readonly element: HTMLLIElement
  readonly children: HTMLOListElement
  node: ApiNode
  private readonly answer: AnswerView
  private readonly status: HTMLElement
  private readonly failure: HTMLElement
  private readonly sources: HTMLElement
  private readonly actions: HTMLElement
  private readonly questionId: string
  private stream: NodeStream | undefined
  private attempt = 0
  private replies = 0
  private recallable = true
  private replyForm: HTMLFormElement | undefined

  constructor(node: ApiNode, private readonly host: NodeHost) {
    this.node = node
    this.questionId = 'tp-ask-q-' + ++uid
    this.answer = new AnswerView((text) => host.announce(text))
    this.status = h('p', {class: 'tp-ask-status'})
    this.failure = h('div', {class: 'tp-ask-failure', hidden: true})
    this.sources = h('div', {class: 'tp-ask-sources', hidden: true})
    this.actions = h('div', {class: 'tp-ask-actions'})
    this.children = h('ol', {class: 'tp-ask-children', 'aria-label': 'Replies'})
    const question = h('h3', {class: 'tp-ask-question', id: this.questionId, tabindex: -1}, h('span', {class: 'tp-sr-only'}, 'Question: '), node.question)
    this.element = h('li', {class: 'tp-ask-node', 'data-node': node._id, 'aria-labelledby': this.questionId},
      question,
      h('div', {class: 'tp-ask-reply-body'}, this.answer.element, this.status, this.failure, this.sources, this.actions),
      this.children,
    )
    this.element.addEventListener('click', (event) => this.onClick(event))
    if (node.state === 'streaming') this.subscribe()
    else this.renderStored()
  }

  /** A newer copy of the node (a tree refresh, another tab's change). */
  update(node: ApiNode): void {
    const before = this.node
    this.node = {...node}
    if (this.stream !== undefined) {
      if (node.state === 'streaming' && node.attempts > this.attempt && this.attempt > 0) this.subscribe()
      return
    }
    if (node.state === 'streaming') this.subscribe()
    // A finished or failed answer never changes in place (a recall is a new attempt): nothing to redo otherwise.
    else if (node.state !== before.state || node.attempts !== before.attempts) this.renderStored()
  }

  /** How many replies the node has (a failed node with replies cannot be recalled). */
  setReplies(count: number): void {
    if (count === this.replies) return
    this.replies = count
    if (this.node.state === 'failed') this.renderActions()
  }

  /** Move the focus to the question (a new reply: the reader continues there). */
  focusQuestion(): void {
    this.element.querySelector<HTMLElement>('.tp-ask-question')?.focus({preventScroll: true})
  }

  /** Stop listening (the node's view is removed). */
  dispose(): void {
    this.stream?.close()
    this.stream = undefined
  }

  subscribe(after?: string): void {
    this.stream?.close()
    if (after === undefined) {
      this.answer.reset()
      this.node.state = 'streaming'
      this.setState('streaming')
    }
    this.stream = new NodeStream(this.host.api.streamUrl(this.node._id, after), {
      start: (data) => {
        this.attempt = data.attempt
        this.answer.reset()
        this.answer.setSources(data.sources)
        this.node.sources = data.sources
        this.node.attempts = data.attempt
        this.node.state = 'streaming'
        this.setState('streaming')
        this.emit('start', data.seq)
      },
      answer: (data) => {
        this.answer.apply(data)
        if (this.answer.text() !== '') this.status.hidden = true
        this.host.follow()
        this.emit('answer', data.seq)
      },
      done: (data) => {
        this.stream = undefined
        this.node.state = 'immutable'
        this.node.answer = this.answer.text()
        this.node.citations = data.citations
        this.node.finished_at = data.finished_at
        this.node.model = {...this.node.model, ...data.model} as ApiNode['model']
        delete this.node.failure
        this.setState('immutable')
        this.host.announce('Answer complete.')
        this.emit('done', data.seq)
      },
      failed: (data) => {
        this.stream = undefined
        this.node.state = 'failed'
        this.node.answer = this.answer.text()
        this.node.failure = {reason: data.reason, message: data.message, at: data.at, ...(data.status ? {status: data.status} : {})}
        this.recallable = data.recallable
        this.setState('failed')
        this.host.announce(REASONS[data.reason] + '. ' + data.message)
        this.emit('failed', data.seq)
      },
      reconnecting: (on) => {
        if (on) this.showStatus('Connection lost; reconnecting…')
        else if (this.answer.text() !== '') this.status.hidden = true
        else this.showStatus('Reading the page…', true)
      },
      lost: (lastId) => {
        this.stream = undefined
        void this.recover(lastId)
      },
    }, after)
  }

  /** The stream ended without `done` or `failed`: read the node, and follow it again if it still streams. */
  private async recover(lastId: string | undefined, delay = 1000): Promise<void> {
    try {
      const node = await this.host.api.node(this.node._id)
      this.node = node
      if (node.state === 'streaming') {
        setTimeout(() => {
          if (this.stream === undefined && this.element.isConnected) this.subscribe(lastId)
        }, delay)
      } else {
        this.renderStored()
      }
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        this.showStatus('This answer no longer exists.')
        return
      }
      this.showStatus('Connection lost; reconnecting…')
      setTimeout(() => {
        if (this.stream === undefined && this.element.isConnected) void this.recover(lastId, delay)
      }, Math.min(delay * 2, 15_000))
    }
  }

  private renderStored(): void {
    this.attempt = this.node.attempts
    this.answer.setSources(this.node.sources)
    this.answer.renderWhole(this.node.answer)
    this.recallable = true
    this.setState(this.node.state)
  }

  private setState(state: ApiNode['state']): void {
    const focused = this.actions.contains(document.activeElement)
    this.node.state = state
    this.element.dataset['state'] = state
    this.answer.element.setAttribute('aria-busy', String(state === 'streaming'))
    if (state === 'streaming') {
      this.failure.hidden = true
      this.sources.hidden = true
      if (this.answer.text() === '') this.showStatus('Reading the page…', true)
    } else {
      this.status.hidden = true
    }
    if (state === 'failed' && this.node.failure) this.renderFailure(this.node.failure.reason, this.node.failure.message)
    else this.failure.hidden = true
    if (state === 'immutable') this.renderSources(this.node.citations)
    this.renderActions()
    if (focused) {
      const preferred = this.actions.querySelector<HTMLElement>('[data-act="stop"], [data-act="recall"], [data-act="reply"], button')
      preferred?.focus()
    }
  }

  private showStatus(text: string, pending = false): void {
    this.status.replaceChildren(text)
    this.status.classList.toggle('is-pending', pending)
    this.status.hidden = false
  }

  private renderFailure(reason: FailureReason, message: string): void {
    this.failure.replaceChildren(
      h('p', {class: 'tp-ask-failure-title'}, icon('alert'), h('strong', null, REASONS[reason] ?? 'Failed')),
      messageWithCode(message),
    )
    this.failure.hidden = false
  }

  private renderSources(citations: readonly Source[]): void {
    const links = citations.filter((source) => ownHref(source.href))
    this.sources.replaceChildren()
    if (links.length === 0) {
      this.sources.hidden = true
      return
    }
    const list = h('ul')
    for (const source of links) {
      const where = source.page === this.host.page ? '' : source.page + ' › '
      list.append(h('li', null, h('a', {class: 'tp-ask-cite', href: source.href, 'data-label': source.label}, '§' + source.label), ' ',
        h('a', {class: 'tp-ask-source', href: source.href, 'data-label': source.label}, where + (source.title || source.page))))
    }
    this.sources.append(h('p', {class: 'tp-ask-sources-title'}, 'Sources'), list)
    this.sources.hidden = false
  }

  private renderActions(): void {
    const state = this.node.state
    const buttons: HTMLElement[] = []
    if (state === 'streaming') buttons.push(button('stop', 'Stop', 'stop', {cls: 'tp-ask-action is-stop'}))
    if (state === 'failed' && this.recallable && this.replies === 0) buttons.push(button('recall', 'Recall', 'recall', {cls: 'tp-ask-action is-primary'}))
    if (state !== 'streaming') buttons.push(button('reply', 'Reply', 'reply'))
    if (state !== 'streaming' && this.answer.text().trim() !== '') buttons.push(button('copy', 'Copy', 'copy-answer'))
    for (const element of buttons) element.setAttribute('aria-describedby', this.questionId)
    const meta = h('span', {class: 'tp-ask-meta'})
    if (state !== 'streaming' && this.node.model?.name) meta.append(this.node.model.name)
    if (this.node.attempts > 1 && state !== 'streaming') meta.append(' · attempt ' + this.node.attempts)
    if (this.host.page !== undefined && this.node.page !== this.host.page) {
      meta.append(meta.childNodes.length > 0 ? ' · on ' : 'on ', h('a', {href: this.host.base + this.node.page + '.html'}, this.node.page))
    }
    this.actions.replaceChildren(...buttons, meta)
  }

  private onClick(event: MouseEvent): void {
    const target = event.target instanceof Element ? event.target.closest<HTMLElement>('[data-act]') : null
    // Only this node's own controls: replies handle their own.
    if (target === null || target.closest('.tp-ask-node') !== this.element || target.getAttribute('aria-disabled') === 'true') return
    switch (target.dataset['act']) {
      case 'stop':
        void this.stop(target)
        break
      case 'recall':
        void this.recall(target)
        break
      case 'reply':
        this.openReply()
        break
      case 'reply-cancel':
        this.closeReply(true)
        break
      case 'copy-answer':
        this.host.copy(this.answer.text(), target)
        break
      default:
    }
  }

  private async stop(target: HTMLElement): Promise<void> {
    target.setAttribute('aria-disabled', 'true')
    try {
      const node = await this.host.api.stop(this.node._id)
      // The stream brings `failed` too; if it is gone already, show the stored state.
      if (this.stream === undefined && node.state !== 'streaming') {
        this.node = node
        this.renderStored()
      }
      this.host.changed(this.node.tree_id)
    } catch (error) {
      target.removeAttribute('aria-disabled')
      if (error instanceof ApiError && error.code === 'not_streaming') return this.update(await this.host.api.node(this.node._id))
      this.host.failed(error, this.actions)
    }
  }

  private async recall(target: HTMLElement): Promise<void> {
    if (!this.host.canAsk()) return this.host.failed(undefined, this.actions)
    target.setAttribute('aria-disabled', 'true')
    try {
      const asked = await this.host.api.recall(this.node._id)
      this.node = asked.node
      this.subscribe()
      this.host.changed(asked.session_id)
    } catch (error) {
      target.removeAttribute('aria-disabled')
      if (error instanceof ApiError && error.code === 'has_replies') {
        this.recallable = false
        this.renderActions()
      }
      this.host.failed(error, this.actions)
    }
  }

  private openReply(): void {
    if (this.replyForm !== undefined) {
      this.replyForm.querySelector('textarea')?.focus()
      return
    }
    const id = this.questionId + '-reply'
    const area = h('textarea', {id, class: 'tp-ask-input', rows: 2, placeholder: 'Ask a follow-up…', maxlength: 2000, enterkeyhint: 'send'})
    const form = h('form', {class: 'tp-ask-reply-form'},
      h('label', {for: id, class: 'tp-sr-only'}, 'Reply to: ' + this.node.question),
      area,
      h('div', {class: 'tp-ask-reply-buttons'},
        h('button', {type: 'button', class: 'tp-ask-action', 'data-act': 'reply-cancel'}, 'Cancel'),
        h('button', {type: 'submit', class: 'tp-ask-action is-primary'}, icon('reply'), h('span', null, 'Reply'))))
    area.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault()
        event.stopPropagation()
        this.closeReply(true)
      } else if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault()
        form.requestSubmit()
      }
    })
    form.addEventListener('submit', (event) => {
      event.preventDefault()
      void this.sendReply(area)
    })
    this.replyForm = form
    this.actions.after(form)
    area.focus()
  }

  private closeReply(refocus: boolean): void {
    this.replyForm?.remove()
    this.replyForm = undefined
    if (refocus) this.actions.querySelector<HTMLElement>('[data-act="reply"]')?.focus()
  }

  private async sendReply(area: HTMLTextAreaElement): Promise<void> {
    const question = area.value.trim()
    if (question === '') return
    if (!this.host.canAsk()) return this.host.failed(undefined, this.replyForm ?? this.actions)
    area.readOnly = true
    try {
      const asked = await this.host.api.reply(this.node._id, {question, ...(this.host.page ? {page: this.host.page} : {})})
      this.closeReply(false)
      this.host.added(asked)
      this.host.changed(asked.session_id)
    } catch (error) {
      area.readOnly = false
      this.host.failed(error, this.replyForm ?? this.actions)
    }
  }

  /** For tests and extensions: each applied stream event, after the DOM is updated. */
  private emit(type: string, seq: number): void {
    this.element.dispatchEvent(new CustomEvent('tagpress:ask-event', {bubbles: true, detail: {node: this.node._id, type, seq, attempt: this.attempt, finals: this.answer.finalCount()}}))
  }
}

/** A message of the engine with its `code` spans (commands) as code, each command copyable. */
export function messageWithCode(message: string): HTMLElement {
  const paragraph = h('p', {class: 'tp-ask-message'})
  message.split('`').forEach((part, index) => {
    if (index % 2 === 0) {
      paragraph.append(part)
      return
    }
    paragraph.append(h('code', null, part))
    if (/^(?:ollama|tagpress|npx) /.test(part)) {
      paragraph.append(h('button', {type: 'button', class: 'tp-ask-copy is-inline', 'data-act': 'copy-text', 'data-text': part, 'aria-label': 'Copy “' + part + '”'}, icon('copy')))
    }
  })
  return paragraph
}
