/**
 * The "ask this doc" panel (SPEC §5, docs/panel.md), loaded on first use by
 * ask-open.ts. A side sheet on wide screens (the page makes room for it), a
 * bottom sheet on phones (it shrinks to half height to show a cited section).
 * Non-modal: the page stays readable and usable beside it.
 *
 * Sessions on the left (list, rename, new, delete); the open session's tree
 * of questions with replies nested under the answer they follow; a composer
 * that asks about the page being read. What is remembered: the open session
 * (localStorage, shared by the tabs) and whether the panel is open (session
 * storage: this tab, across reloads and pages). Tabs tell each other about
 * changes over a BroadcastChannel (the API has no change feed).
 *
 * Honest states, from `GET <base>api/ask/status` and the API's errors: no
 * API (a static host), server not answering, no model server, model missing
 * (with the engine's exact `ollama pull` command), rate-limited (429 with
 * Retry-After), offline.
 */
import {copy} from '../code'
import '../styles/ask.css'
import {ApiError, AskApi} from './api'
import {button, h, icon} from './h'
import {messageWithCode, NodeView, type NodeHost} from './node-view'
import type {ApiNode, Asked, AskStatus, SessionDoc} from './types'

/** localStorage: `{session, sessions}` (the open session, whether the list is shown). */
const PREFS_KEY = 'tagpress-ask'
/** sessionStorage: `1` while the panel is open in this tab (ask-open.ts reads it). */
export const OPEN_KEY = 'tagpress-ask-open'
const CHANNEL = 'tagpress-ask'
/** The list of sessions sits beside the conversation from this width; below, it covers it. */
const INLINE_SESSIONS = '(min-width: 1440px)'
const NARROW = '(max-width: 959.98px)'

type How = 'toggle' | 'shortcut' | 'restore'

type Availability =
  | {kind: 'checking'}
  | {kind: 'ready'; status: AskStatus}
  /** The API is there but the backend is not ready: asking works, answers will fail until it is. */
  | {kind: 'warn'; status: AskStatus}
  | {kind: 'static'}
  | {kind: 'blocked'; title: string; message: string}

interface Prefs {
  session?: string | null
  sessions?: boolean
}

let panel: Panel | undefined

/** Open, close or focus the panel (the header button, the shortcut, a restore after reload). */
export function askPanel(opener: HTMLElement, how: How): void {
  panel ??= new Panel(opener)
  panel.command(how)
}

class Panel implements NodeHost {
  readonly api: AskApi
  readonly base: string
  readonly page: string | undefined
  private readonly root: HTMLElement
  private readonly title: HTMLElement
  private readonly subtitle: HTMLElement
  private readonly sessionsButton: HTMLButtonElement
  private readonly sizeButton: HTMLButtonElement
  private readonly sessionsPane: HTMLElement
  private readonly sessionsList: HTMLUListElement
  private readonly sessionsEmpty: HTMLElement
  private readonly banner: HTMLElement
  private readonly log: HTMLElement
  private readonly empty: HTMLElement
  private readonly tree: HTMLOListElement
  private readonly composer: HTMLFormElement
  private readonly input: HTMLTextAreaElement
  private readonly send: HTMLButtonElement
  private readonly note: HTMLElement
  private readonly live: HTMLElement
  private readonly views = new Map<string, NodeView>()
  private readonly channel: BroadcastChannel | undefined
  private availability: Availability = {kind: 'checking'}
  private checking: Promise<void> = Promise.resolve()
  private offline = !navigator.onLine
  private limitedUntil = 0
  private limitTimer: ReturnType<typeof setInterval> | undefined
  private checked = 0
  private session: string | null
  private sessionDoc: SessionDoc | undefined
  private sessions: SessionDoc[] = []
  private atEnd = true
  private treeLoad = 0

  constructor(private readonly opener: HTMLElement) {
    this.base = opener.dataset['base'] ?? (document.documentElement.dataset['searchIndex'] ?? '/search-index.json').replace(/[^/]*$/, '')
    this.page = opener.dataset['page'] || undefined
    this.api = new AskApi(this.base)
    const prefs = readPrefs()
    this.session = prefs.session ?? null

    this.title = h('h2', {id: 'tp-ask-title', class: 'tp-ask-title', tabindex: -1}, 'Ask this page')
    this.subtitle = h('p', {class: 'tp-ask-subtitle', id: 'tp-ask-subtitle'})
    this.sessionsButton = button('list', 'Conversations', 'sessions', {hideLabel: true, cls: 'tp-icon-button'})
    this.sessionsButton.setAttribute('aria-controls', 'tp-ask-sessions')
    this.sizeButton = button('shrink', 'Shrink the panel', 'size', {hideLabel: true, cls: 'tp-icon-button tp-ask-size'})

    this.sessionsList = h('ul', {class: 'tp-ask-session-list', 'aria-labelledby': 'tp-ask-sessions-title'})
    this.sessionsEmpty = h('p', {class: 'tp-ask-sessions-empty'}, 'No conversations yet.')
    this.sessionsPane = h('div', {class: 'tp-ask-sessions', id: 'tp-ask-sessions', hidden: true},
      h('div', {class: 'tp-ask-sessions-head'},
        h('h3', {id: 'tp-ask-sessions-title'}, 'Conversations'),
        button('plus', 'New', 'new', {cls: 'tp-ask-action'})),
      this.sessionsList, this.sessionsEmpty)

    this.banner = h('div', {class: 'tp-ask-banner', hidden: true})
    this.empty = h('div', {class: 'tp-ask-empty'})
    this.tree = h('ol', {class: 'tp-ask-tree', 'aria-label': 'Questions and answers'})
    this.log = h('div', {class: 'tp-ask-log', role: 'region', 'aria-label': 'Conversation', tabindex: 0}, this.empty, this.tree)

    this.input = h('textarea', {id: 'tp-ask-input', class: 'tp-ask-input', rows: 1, maxlength: 2000, enterkeyhint: 'send', placeholder: this.page ? 'Ask about this page…' : 'Nothing to ask about on this page', 'aria-describedby': 'tp-ask-note'})
    this.send = h('button', {type: 'submit', class: 'tp-ask-send', 'aria-label': 'Ask', title: 'Ask (Enter)'}, icon('send'))
    this.note = h('p', {class: 'tp-ask-note', id: 'tp-ask-note'})
    this.composer = h('form', {class: 'tp-ask-composer'},
      h('label', {for: 'tp-ask-input', class: 'tp-sr-only'}, 'Ask a question about this page'),
      h('div', {class: 'tp-ask-field'}, this.input, this.send),
      this.note)
    this.live = h('div', {class: 'tp-sr-only', 'aria-live': 'polite', 'aria-atomic': 'false', 'aria-relevant': 'additions'})

    this.root = h('section', {class: 'tp-ask', id: 'tp-ask', role: 'dialog', 'aria-modal': 'false', 'aria-labelledby': 'tp-ask-title', 'aria-describedby': 'tp-ask-subtitle', hidden: true},
      h('div', {class: 'tp-ask-head'},
        this.sessionsButton,
        h('div', {class: 'tp-ask-titles'}, this.title, this.subtitle),
        button('plus', 'New conversation', 'new', {hideLabel: true, cls: 'tp-icon-button'}),
        this.sizeButton,
        button('close', 'Close the panel (Esc)', 'close', {hideLabel: true, cls: 'tp-icon-button'})),
      h('div', {class: 'tp-ask-body'},
        this.sessionsPane,
        h('div', {class: 'tp-ask-main'}, this.banner, this.log, this.composer)),
      this.live)
    document.body.append(this.root)
    opener.setAttribute('aria-controls', 'tp-ask')

    // Beside the conversation (wide screens) the list stays as the reader left it; over it, it starts closed.
    this.showSessionsPane(matchMedia(INLINE_SESSIONS).matches && prefs.sessions !== false, false)
    this.wire()
    this.renderEmpty()
    this.renderNote()
    this.updateComposer()

    try {
      this.channel = new BroadcastChannel(CHANNEL)
      this.channel.addEventListener('message', (event: MessageEvent<{session?: string; deleted?: boolean}>) => this.onBroadcast(event.data))
    } catch {
      this.channel = undefined
    }
    void this.start()
  }

  command(how: How): void {
    const open = !this.root.hidden
    if (how === 'restore') return this.open(false)
    if (!open) return this.open(true)
    if (how === 'shortcut' && !this.root.contains(document.activeElement)) return this.focusStart()
    this.close()
  }

  // ---------- opening and closing ----------

  private open(focus: boolean): void {
    this.root.hidden = false
    document.documentElement.classList.add('tp-ask-open')
    this.syncPush()
    this.opener.setAttribute('aria-expanded', 'true')
    storeOpen(true)
    if (focus) this.focusStart()
    if (Date.now() - this.checked > 30_000 && this.availability.kind !== 'static') void this.check()
  }

  private close(): void {
    const inside = this.root.contains(document.activeElement)
    this.root.hidden = true
    document.documentElement.classList.remove('tp-ask-open', 'tp-ask-wide')
    this.opener.setAttribute('aria-expanded', 'false')
    storeOpen(false)
    if (inside || document.activeElement === document.body) this.opener.focus()
  }

  private focusStart(): void {
    if (!this.input.disabled) this.input.focus()
    else this.title.focus()
  }

  /** The page makes room for the sheet (wide screens); wider when the session list sits beside it. */
  private syncPush(): void {
    document.documentElement.classList.toggle('tp-ask-wide', !this.root.hidden && !this.sessionsPane.hidden && matchMedia(INLINE_SESSIONS).matches)
  }

  // ---------- events ----------

  private wire(): void {
    this.root.addEventListener('click', (event) => this.onClick(event))
    this.root.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape' || event.defaultPrevented) return
      event.preventDefault()
      if (!this.sessionsPane.hidden && this.sessionsPane.contains(document.activeElement) && !matchMedia(INLINE_SESSIONS).matches) {
        this.showSessionsPane(false, true)
        this.sessionsButton.focus()
      } else {
        this.close()
      }
    })
    this.composer.addEventListener('submit', (event) => {
      event.preventDefault()
      void this.ask()
    })
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault()
        this.composer.requestSubmit()
      }
    })
    this.input.addEventListener('input', () => this.autosize())
    this.log.addEventListener('scroll', () => {
      this.atEnd = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 48
    }, {passive: true})
    addEventListener('offline', () => {
      this.offline = true
      this.renderBanner()
      this.updateComposer()
    })
    addEventListener('online', () => {
      this.offline = false
      this.renderBanner()
      this.updateComposer()
      void this.check()
      if (this.session) void this.loadTree(false)
    })
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && this.session && !this.root.hidden) void this.loadTree(false)
    })
    matchMedia(INLINE_SESSIONS).addEventListener('change', () => this.syncPush())
  }

  private onClick(event: MouseEvent): void {
    const target = event.target instanceof Element ? event.target : null
    if (target === null) return
    const link = target.closest<HTMLAnchorElement>('a.tp-ask-cite, a.tp-ask-source, a.tp-ask-anchor')
    if (link !== null) return this.followLink(link, event)
    const control = target.closest<HTMLElement>('[data-act]')
    if (control === null || control.getAttribute('aria-disabled') === 'true') return
    switch (control.dataset['act']) {
      case 'close':
        return this.close()
      case 'new':
        return this.newSession()
      case 'sessions':
        this.showSessionsPane(this.sessionsPane.hidden !== false, true)
        if (!this.sessionsPane.hidden) this.sessionsList.querySelector<HTMLElement>('[aria-current="true"], button')?.focus()
        return
      case 'size':
        return this.setPeek(!this.root.classList.contains('is-peek'))
      case 'copy-code': {
        const pre = control.closest('.tp-ask-code')?.querySelector('pre')
        return this.copy(pre?.textContent ?? '', control)
      }
      case 'copy-text':
        return this.copy(control.dataset['text'] ?? '', control)
      case 'check':
        return void this.check()
      case 'suggest':
        this.input.value = control.textContent ?? ''
        this.autosize()
        return void this.ask()
      case 'open-session':
        return void this.openSession(control.closest<HTMLElement>('[data-session]')?.dataset['session'] ?? null, true)
      case 'rename':
        return this.startRename(control)
      case 'delete':
        return this.confirmDelete(control)
      default:
    }
  }

  // ---------- status and honest states ----------

  private async start(): Promise<void> {
    await this.check()
    if (this.availability.kind === 'static') return
    void this.loadSessions()
    if (this.session) await this.loadTree(true)
  }

  private check(): Promise<void> {
    this.checking = this.runCheck()
    return this.checking
  }

  private async runCheck(): Promise<void> {
    this.checked = Date.now()
    try {
      const status = await this.api.status()
      this.availability = status.ok ? {kind: 'ready', status} : {kind: 'warn', status}
    } catch (error) {
      this.availability = this.unavailable(error)
    }
    this.renderBanner(true)
    this.renderNote()
    this.updateComposer()
  }

  private unavailable(error: unknown): Availability {
    if (!(error instanceof ApiError)) return {kind: 'blocked', title: 'The panel could not start', message: String(error)}
    if (error.code === 'no_api') return {kind: 'static'}
    if (error.code === 'offline') {
      this.offline = true
      return {kind: 'checking'}
    }
    if (error.code === 'unreachable') {
      return {kind: 'blocked', title: 'The tagpress server is not answering', message: 'Start it again with `tagpress dev` or `tagpress serve` in the project, then check again.'}
    }
    if (error.code === 'unauthorized') {
      return {kind: 'blocked', title: 'This server needs a token', message: error.message + ' The panel sends the `tagpress_token` cookie when this site has one.'}
    }
    return {kind: 'blocked', title: 'Asking is not available', message: error.message}
  }

  private renderBanner(announce = false): void {
    const parts: HTMLElement[] = []
    let title = ''
    let message: HTMLElement | undefined
    let retry = false
    const availability = this.availability
    if (this.offline) {
      title = 'You are offline'
      message = h('p', {class: 'tp-ask-message'}, 'Asking needs the connection to the tagpress server. Answers that were streaming continue when it is back.')
    } else if (availability.kind === 'static') {
      title = 'Asking needs the tagpress server'
      message = messageWithCode('This copy of the site is static: no server here can answer. Run `tagpress serve` (or `tagpress dev`) in the project and open the page there to ask about it.')
    } else if (availability.kind === 'blocked') {
      title = availability.title
      message = messageWithCode(availability.message)
      retry = true
    } else if (this.limitedUntil > Date.now()) {
      title = 'Too many questions for now'
      message = h('p', {class: 'tp-ask-message'}, 'The server takes a limited number of questions a minute from one address. You can ask again in ',
        h('span', {'data-countdown': ''}, String(Math.ceil((this.limitedUntil - Date.now()) / 1000))), ' s.')
    } else if (availability.kind === 'warn') {
      title = availability.status.reason === 'model_missing' ? 'The model is not installed' : availability.status.reason === 'backend_down' ? 'No model server' : 'The model server is not ready'
      message = messageWithCode(availability.status.message)
      retry = true
    }
    if (title === '') {
      this.banner.hidden = true
      this.banner.replaceChildren()
      this.root.dataset['availability'] = availability.kind
      return
    }
    parts.push(h('p', {class: 'tp-ask-banner-title'}, icon('alert'), h('strong', null, title)))
    if (message) parts.push(message)
    if (retry) parts.push(h('p', null, h('button', {type: 'button', class: 'tp-ask-action', 'data-act': 'check'}, 'Check again')))
    this.banner.replaceChildren(...parts)
    this.banner.hidden = false
    this.banner.dataset['state'] = this.offline ? 'offline' : this.limitedUntil > Date.now() ? 'limited' : availability.kind === 'warn' ? availability.status.reason ?? 'warn' : availability.kind
    this.root.dataset['availability'] = availability.kind
    if (announce || this.offline) this.announce(title + '. ' + (message?.textContent ?? ''))
  }

  private renderNote(): void {
    const availability = this.availability
    if (!this.page) {
      this.note.replaceChildren('This page is generated by tagpress and has no Markdown source to ask about; open a page of the documentation to ask about it. You can still read and continue your conversations.')
      return
    }
    const model = availability.kind === 'ready' || availability.kind === 'warn' ? availability.status.model : ''
    this.note.replaceChildren(
      model ? h('strong', null, model) : 'The model',
      ' answers from this page and can be wrong: check the linked sections.',
      h('span', {class: 'tp-sr-only'}, ' Enter asks; Shift+Enter starts a new line.'))
  }

  canAsk(): boolean {
    const kind = this.availability.kind
    return !this.offline && (kind === 'ready' || kind === 'warn') && this.limitedUntil <= Date.now()
  }

  private updateComposer(): void {
    const enabled = this.page !== undefined && this.canAsk()
    this.input.disabled = !enabled && (this.page === undefined || this.availability.kind === 'static' || this.availability.kind === 'blocked')
    this.send.disabled = !enabled
    for (const suggestion of this.empty.querySelectorAll<HTMLButtonElement>('[data-act="suggest"]')) suggestion.disabled = !enabled
    const noServer = this.availability.kind === 'static'
    this.note.hidden = noServer
    if (noServer) this.empty.hidden = true
    if (this.page) this.input.placeholder = noServer ? 'No server here to answer' : 'Ask about this page…'
    this.root.classList.toggle('is-disabled', this.page === undefined || this.availability.kind === 'static')
  }

  /** 429: wait `seconds`, with a countdown in the banner. */
  private limit(seconds: number): void {
    this.limitedUntil = Date.now() + seconds * 1000
    clearInterval(this.limitTimer)
    this.renderBanner(true)
    this.updateComposer()
    this.limitTimer = setInterval(() => {
      const left = Math.ceil((this.limitedUntil - Date.now()) / 1000)
      if (left <= 0) {
        clearInterval(this.limitTimer)
        this.renderBanner()
        this.updateComposer()
        this.announce('You can ask again.')
        return
      }
      const countdown = this.banner.querySelector('[data-countdown]')
      if (countdown) countdown.textContent = String(left)
    }, 1000)
  }

  /** An action's error, shown where it happened (and in the banner when it is a state). */
  failed(error: unknown, where: HTMLElement): void {
    let text: string
    if (error === undefined) {
      text = this.offline ? 'You are offline.' : this.limitedUntil > Date.now() ? 'Wait a moment: too many questions in a minute.' : 'Asking is not available right now.'
    } else if (error instanceof ApiError) {
      if (error.status === 429) this.limit(error.retryAfter ?? 60)
      if (error.code === 'offline') {
        this.offline = true
        this.renderBanner()
        this.updateComposer()
      }
      text = error.status === 429 ? 'Too many questions in a minute: try again in ' + (error.retryAfter ?? 60) + ' s.' : error.message
    } else {
      text = String(error)
    }
    const anchor = where === this.composer ? this.note : where
    const next = anchor.nextElementSibling
    if (next?.classList.contains('tp-ask-error')) next.remove()
    const line = h('p', {class: 'tp-ask-error', role: 'alert'}, text)
    anchor.after(line)
    setTimeout(() => line.remove(), 10_000)
  }

  // ---------- sessions ----------

  private showSessionsPane(show: boolean, remember: boolean): void {
    this.sessionsPane.hidden = !show
    this.sessionsButton.setAttribute('aria-expanded', String(show))
    this.root.classList.toggle('has-sessions', show)
    if (remember && matchMedia(INLINE_SESSIONS).matches) writePrefs({sessions: show})
    this.syncPush()
  }

  private async loadSessions(): Promise<void> {
    try {
      this.sessions = await this.api.sessions()
    } catch {
      return
    }
    this.renderSessions()
  }

  private renderSessions(): void {
    const items: HTMLElement[] = []
    for (const session of this.sessions) {
      const current = session._id === this.session
      const title = session.title || 'Untitled conversation'
      items.push(h('li', {class: 'tp-ask-session' + (current ? ' is-current' : ''), 'data-session': session._id},
        h('button', {type: 'button', class: 'tp-ask-session-open', 'data-act': 'open-session', 'aria-current': current ? 'true' : undefined},
          h('span', {class: 'tp-ask-session-title'}, title),
          h('span', {class: 'tp-ask-session-meta'}, session.page + ' · ' + ago(session.updated_at))),
        h('span', {class: 'tp-ask-session-tools'},
          h('button', {type: 'button', class: 'tp-ask-tool', 'data-act': 'rename', 'aria-label': 'Rename “' + title + '”', title: 'Rename'}, icon('edit')),
          h('button', {type: 'button', class: 'tp-ask-tool', 'data-act': 'delete', 'aria-label': 'Delete “' + title + '”', title: 'Delete'}, icon('trash')))))
    }
    this.sessionsList.replaceChildren(...items)
    this.sessionsEmpty.hidden = items.length > 0
  }

  private async openSession(id: string | null, focus: boolean): Promise<void> {
    if (!matchMedia(INLINE_SESSIONS).matches) this.showSessionsPane(false, false)
    if (id !== this.session) {
      this.session = id
      writePrefs({session: id})
      await this.loadTree(true)
      this.renderSessions()
    }
    if (focus) this.focusStart()
  }

  private newSession(): void {
    void this.openSession(null, true)
  }

  private startRename(control: HTMLElement): void {
    const item = control.closest<HTMLElement>('[data-session]')
    const session = this.sessions.find((candidate) => candidate._id === item?.dataset['session'])
    const opener = item?.querySelector<HTMLElement>('.tp-ask-session-open')
    if (!item || !session || !opener) return
    const input = h('input', {type: 'text', class: 'tp-ask-rename', value: session.title, maxlength: 200, 'aria-label': 'New title for “' + (session.title || 'Untitled conversation') + '”'})
    opener.replaceWith(input)
    input.focus()
    input.select()
    let done = false
    const finish = async (save: boolean): Promise<void> => {
      if (done) return
      done = true
      const title = input.value.trim()
      if (save && title !== '' && title !== session.title) {
        try {
          const renamed = await this.api.rename(session._id, title)
          Object.assign(session, renamed)
          if (session._id === this.session) this.sessionDoc = renamed
          this.renderSubtitle()
          this.broadcast({session: session._id})
          this.announce('Renamed to ' + title + '.')
        } catch (error) {
          this.failed(error, this.sessionsList)
        }
      }
      this.renderSessions()
      this.sessionsList.querySelector<HTMLElement>('[data-session="' + session._id + '"] [data-act="rename"]')?.focus()
    }
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault()
        void finish(true)
      } else if (event.key === 'Escape') {
        event.preventDefault()
        event.stopPropagation()
        void finish(false)
      }
    })
    input.addEventListener('blur', () => void finish(true))
  }

  private confirmDelete(control: HTMLElement): void {
    const item = control.closest<HTMLElement>('[data-session]')
    const session = this.sessions.find((candidate) => candidate._id === item?.dataset['session'])
    if (!item || !session) return
    const title = session.title || 'Untitled conversation'
    const cancel = h('button', {type: 'button', class: 'tp-ask-action'}, 'Cancel')
    const remove = h('button', {type: 'button', class: 'tp-ask-action is-danger'}, icon('trash'), h('span', null, 'Delete'))
    const question = h('p', {class: 'tp-ask-confirm-text', id: 'tp-ask-confirm'}, 'Delete “' + title + '” and its answers?')
    item.replaceChildren(h('div', {class: 'tp-ask-confirm', role: 'group', 'aria-labelledby': 'tp-ask-confirm'}, question, h('div', {class: 'tp-ask-confirm-buttons'}, cancel, remove)))
    cancel.focus()
    cancel.addEventListener('click', () => {
      this.renderSessions()
      this.sessionsList.querySelector<HTMLElement>('[data-session="' + session._id + '"] [data-act="delete"]')?.focus()
    })
    remove.addEventListener('click', () => void this.deleteSession(session, item))
  }

  private async deleteSession(session: SessionDoc, item: HTMLElement): Promise<void> {
    const index = this.sessions.indexOf(session)
    try {
      await this.api.remove(session._id)
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) {
        this.failed(error, item)
        return
      }
    }
    this.sessions = this.sessions.filter((candidate) => candidate !== session)
    if (session._id === this.session) {
      this.session = null
      writePrefs({session: null})
      await this.loadTree(true)
    }
    this.renderSessions()
    this.broadcast({session: session._id, deleted: true})
    this.announce('Deleted “' + (session.title || 'Untitled conversation') + '”.')
    const next = this.sessionsList.children[Math.min(index, this.sessionsList.children.length - 1)]
    ;(next?.querySelector<HTMLElement>('.tp-ask-session-open') ?? this.sessionsPane.querySelector<HTMLElement>('[data-act="new"]'))?.focus()
  }

  private renderSubtitle(): void {
    this.subtitle.textContent = this.session && this.sessionDoc ? this.sessionDoc.title || 'Untitled conversation' : 'New conversation'
  }

  // ---------- the conversation tree ----------

  /** Load the open session's tree; `fresh` drops the views first (another session). */
  private async loadTree(fresh: boolean): Promise<void> {
    const load = ++this.treeLoad
    if (fresh) {
      for (const view of this.views.values()) view.dispose()
      this.views.clear()
      this.tree.replaceChildren()
      this.sessionDoc = undefined
    }
    if (this.session === null) {
      this.renderSubtitle()
      this.renderEmpty()
      return
    }
    try {
      const {session, nodes} = await this.api.tree(this.session)
      if (load !== this.treeLoad) return
      this.sessionDoc = session
      this.sync(nodes)
      if (fresh) this.scrollToEnd()
    } catch (error) {
      if (load !== this.treeLoad) return
      if (error instanceof ApiError && error.status === 404) {
        // Deleted elsewhere: start afresh.
        this.session = null
        writePrefs({session: null})
      } else if (fresh) {
        this.failed(error, this.banner)
      }
    }
    this.renderSubtitle()
    this.renderEmpty()
  }

  /** Add views for new nodes (under their parents) and update the others. */
  private sync(nodes: ApiNode[]): void {
    const replies = new Map<string, number>()
    for (const node of nodes) replies.set(node.parent_id, (replies.get(node.parent_id) ?? 0) + 1)
    for (const node of nodes) {
      const view = this.views.get(node._id)
      if (view) view.update(node)
      else this.insert(node)
    }
    for (const [id, view] of this.views) view.setReplies(replies.get(id) ?? 0)
  }

  private insert(node: ApiNode): NodeView {
    const view = new NodeView(node, this)
    this.views.set(node._id, view)
    const parent = this.views.get(node.parent_id)
    ;(parent?.children ?? this.tree).append(view.element)
    return view
  }

  private renderEmpty(): void {
    const hasNodes = this.tree.childElementCount > 0
    this.empty.hidden = hasNodes
    if (hasNodes || this.empty.childElementCount > 0) return
    const title = document.title.split(' | ')[0] || 'this page'
    const suggestions = this.page ? suggest() : []
    this.empty.append(
      h('p', {class: 'tp-ask-empty-title'}, this.page ? 'Ask about “' + title + '”' : 'Your conversations'),
      h('p', {class: 'tp-ask-empty-text'}, this.page
        ? 'A model answers from the sections of this page and links to the ones it used. Replies follow up on an answer, with it as context.'
        : 'Open the list of conversations to read or continue one.'),
    )
    if (suggestions.length > 0) {
      this.empty.append(h('p', {class: 'tp-ask-suggest-title', id: 'tp-ask-suggest-title'}, 'Questions this page answers'),
        h('ul', {class: 'tp-ask-suggest', 'aria-labelledby': 'tp-ask-suggest-title'}, ...suggestions.map((text) => h('li', null, h('button', {type: 'button', class: 'tp-ask-suggestion', 'data-act': 'suggest'}, text)))))
      this.updateComposer()
    }
  }

  // ---------- asking ----------

  private async ask(): Promise<void> {
    const question = this.input.value.trim()
    if (question === '' || this.page === undefined || this.input.readOnly) return
    if (this.availability.kind === 'checking' && !this.offline) await this.checking
    if (!this.canAsk()) return this.failed(undefined, this.composer)
    this.input.readOnly = true
    this.send.disabled = true
    try {
      let asked: Asked
      try {
        asked = await this.api.ask({...(this.session ? {session_id: this.session} : {}), page: this.page, question})
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 'session_not_found')) throw error
        asked = await this.api.ask({page: this.page, question}) // the session was deleted elsewhere
      }
      this.input.value = ''
      this.autosize()
      if (asked.session_id !== this.session) {
        await this.openSession(asked.session_id, false)
      }
      this.added(asked)
      this.changed(asked.session_id)
      void this.loadSessions()
    } catch (error) {
      this.failed(error, this.composer)
    } finally {
      this.input.readOnly = false
      this.updateComposer()
    }
  }

  added(asked: Asked): void {
    if (asked.session_id !== this.session) return
    const view = this.views.get(asked.node_id) ?? this.insert(asked.node)
    this.views.get(asked.node.parent_id)?.setReplies(this.views.get(asked.node.parent_id)?.children.childElementCount ?? 0)
    this.renderEmpty()
    if (asked.node.parent_id === this.session) {
      this.scrollToEnd()
    } else {
      view.element.scrollIntoView({block: 'nearest'})
      if (this.root.contains(document.activeElement) || document.activeElement === document.body) view.focusQuestion()
    }
  }

  changed(session: string): void {
    this.broadcast({session})
  }

  follow(): void {
    if (this.atEnd) this.scrollToEnd()
  }

  private scrollToEnd(): void {
    this.log.scrollTop = this.log.scrollHeight
    this.atEnd = true
  }

  private autosize(): void {
    this.input.style.height = 'auto'
    this.input.style.height = Math.min(this.input.scrollHeight + 2, 160) + 'px'
  }

  // ---------- links, copy, announcements ----------

  /** A citation or anchor: on this page, scroll to the section and highlight it; elsewhere, go there. */
  private followLink(link: HTMLAnchorElement, event: MouseEvent): void {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
    const url = new URL(link.href, location.href)
    if (url.origin !== location.origin || pageKey(url.pathname) !== pageKey(location.pathname) || url.hash === '') return
    let id: string
    try {
      id = decodeURIComponent(url.hash.slice(1))
    } catch {
      return
    }
    const target = document.getElementById(id)
    if (target === null || this.root.contains(target)) return
    event.preventDefault()
    if (matchMedia(NARROW).matches) this.setPeek(true)
    reveal(target)
    history.replaceState(history.state, '', url.hash)
    this.announce('Showing “' + (target.textContent ?? '').replace(/#$/, '').trim() + '” on the page.')
  }

  private setPeek(peek: boolean): void {
    this.root.classList.toggle('is-peek', peek)
    const label = peek ? 'Expand the panel' : 'Shrink the panel'
    this.sizeButton.setAttribute('aria-label', label)
    this.sizeButton.title = label
    this.sizeButton.replaceChildren(icon(peek ? 'grow' : 'shrink'))
  }

  copy(text: string, control: HTMLElement): void {
    void copy(text).then((ok) => {
      this.announce(ok ? 'Copied.' : 'Copy failed.')
      if (!ok) return
      control.classList.add('is-copied')
      setTimeout(() => control.classList.remove('is-copied'), 1600)
    })
  }

  announce(text: string): void {
    const line = h('p', null, text)
    this.live.append(line)
    while (this.live.childElementCount > 12) this.live.firstElementChild?.remove()
  }

  // ---------- other tabs ----------

  private broadcast(message: {session: string; deleted?: boolean}): void {
    this.channel?.postMessage(message)
  }

  private onBroadcast(message: {session?: string; deleted?: boolean}): void {
    void this.loadSessions()
    if (message.session === undefined || message.session !== this.session) return
    if (message.deleted) {
      this.session = null
      void this.loadTree(true)
    } else {
      void this.loadTree(false)
    }
  }
}

let highlightTimer: ReturnType<typeof setTimeout> | undefined

/** Scroll a section into view and highlight it (the heading and what follows up to the next heading of its level). */
function reveal(target: HTMLElement): void {
  const parts: Element[] = []
  const level = /^H([1-6])$/.exec(target.tagName)?.[1]
  if (level !== undefined) {
    parts.push(target)
    for (let next = target.nextElementSibling; next !== null && parts.length < 60; next = next.nextElementSibling) {
      const other = /^H([1-6])$/.exec(next.tagName)?.[1]
      if (other !== undefined && other <= level) break
      parts.push(next)
    }
  } else {
    parts.push(target.closest('p, li, div, blockquote') ?? target)
  }
  clearTimeout(highlightTimer)
  for (const old of document.querySelectorAll('.tp-ask-highlight')) old.classList.remove('tp-ask-highlight')
  for (const part of parts) {
    void (part as HTMLElement).offsetWidth // restart the animation
    part.classList.add('tp-ask-highlight')
  }
  highlightTimer = setTimeout(() => {
    for (const part of parts) part.classList.remove('tp-ask-highlight')
  }, 3200)
  const smooth = !matchMedia('(prefers-reduced-motion: reduce)').matches
  target.scrollIntoView({behavior: smooth ? 'smooth' : 'auto', block: 'start'})
  if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1')
  target.focus({preventScroll: true})
}

/** A page's path without `.html` or a trailing `index`, to compare pages. */
function pageKey(pathname: string): string {
  let value = pathname
  try {
    value = decodeURIComponent(pathname)
  } catch {
    // keep as is
  }
  return value.replace(/\.html$/, '').replace(/(^|\/)index$/, '$1')
}

/** Up to three questions the page itself answers (its Q/A pairs), else about its sections. */
function suggest(): string[] {
  const out: string[] = []
  for (const question of document.querySelectorAll('.tp-doc .tp-question')) {
    const text = [...question.childNodes].filter((node) => node.nodeType === Node.TEXT_NODE).map((node) => node.textContent).join('').trim()
    if (text !== '' && !out.includes(text)) out.push(text)
    if (out.length === 3) return out
  }
  for (const heading of document.querySelectorAll('.tp-doc h2')) {
    const text = (heading.querySelector('.tp-topic') ?? heading).textContent?.replace(/#$/, '').trim() ?? ''
    if (text !== '') out.push('What does “' + text + '” explain?')
    if (out.length === 3) break
  }
  return out
}

function ago(iso: string): string {
  const seconds = (Date.parse(iso) - Date.now()) / 1000
  if (!Number.isFinite(seconds)) return ''
  const format = new Intl.RelativeTimeFormat(undefined, {numeric: 'auto', style: 'short'})
  const abs = Math.abs(seconds)
  if (abs < 60) return format.format(Math.round(seconds), 'second')
  if (abs < 3600) return format.format(Math.round(seconds / 60), 'minute')
  if (abs < 86_400) return format.format(Math.round(seconds / 3600), 'hour')
  return format.format(Math.round(seconds / 86_400), 'day')
}

function readPrefs(): Prefs {
  try {
    const value = JSON.parse(localStorage.getItem(PREFS_KEY) ?? '{}') as unknown
    return value !== null && typeof value === 'object' ? (value as Prefs) : {}
  } catch {
    return {}
  }
}

function writePrefs(patch: Prefs): void {
  try {
    localStorage.setItem(PREFS_KEY, JSON.stringify({...readPrefs(), ...patch}))
  } catch {
    // Storage disabled: the choice lasts for this page.
  }
}

function storeOpen(open: boolean): void {
  try {
    if (open) sessionStorage.setItem(OPEN_KEY, '1')
    else sessionStorage.removeItem(OPEN_KEY)
  } catch {
    // as above
  }
}

