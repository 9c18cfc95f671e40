/**
 * The ask API client (docs/ask.md, "HTTP API"): JSON in and out, errors as
 * `ApiError` with the server's `code` and sentence. A response that is not
 * the API's JSON (a static host's 404 page) is `no_api`; a request that
 * never reached a server is `offline` or `unreachable`.
 */
import type {ApiNode, Asked, AskStatus, SessionDoc, TreeNode} from './types'

export class ApiError extends Error {
  constructor(
    /** HTTP status; 0 when there was no response. */
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds, from `Retry-After` (429). */
    readonly retryAfter?: number,
  ) {
    super(message)
  }
}

export class AskApi {
  /** `base` is the site base (`/` or `/docs/`); the API lives at `<base>api/`. */
  constructor(readonly base: string) {}

  status(): Promise<AskStatus> {
    return this.request('GET', 'ask/status')
  }

  async sessions(): Promise<SessionDoc[]> {
    return (await this.request<{sessions: SessionDoc[]}>('GET', 'sessions')).sessions
  }

  tree(session: string): Promise<{session: SessionDoc; nodes: ApiNode[]; tree: TreeNode[]}> {
    return this.request('GET', 'trees/' + encodeURIComponent(session))
  }

  async node(id: string): Promise<ApiNode> {
    return (await this.request<{node: ApiNode}>('GET', 'nodes/' + encodeURIComponent(id))).node
  }

  ask(body: {session_id?: string; page: string; question: string}): Promise<Asked> {
    return this.request('POST', 'ask', body)
  }

  reply(id: string, body: {question: string; page?: string}): Promise<Asked> {
    return this.request('POST', 'nodes/' + encodeURIComponent(id) + '/reply', body)
  }

  recall(id: string): Promise<Asked> {
    return this.request('POST', 'nodes/' + encodeURIComponent(id) + '/recall')
  }

  async stop(id: string): Promise<ApiNode> {
    return (await this.request<{node: ApiNode}>('POST', 'nodes/' + encodeURIComponent(id) + '/stop')).node
  }

  async rename(id: string, title: string): Promise<SessionDoc> {
    return (await this.request<{session: SessionDoc}>('PATCH', 'sessions/' + encodeURIComponent(id), {title})).session
  }

  async remove(id: string): Promise<void> {
    await this.request('DELETE', 'sessions/' + encodeURIComponent(id))
  }

  /** The event stream of a node; `after` resumes after that event id (`<attempt>-<seq>`). */
  streamUrl(id: string, after?: string): string {
    return this.base + 'api/nodes/' + encodeURIComponent(id) + '/stream' + (after ? '?lastEventId=' + encodeURIComponent(after) : '')
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response
    try {
      response = await fetch(this.base + 'api/' + path, {
        method,
        headers: body === undefined ? {accept: 'application/json'} : {accept: 'application/json', 'content-type': 'application/json'},
        body: body === undefined ? null : JSON.stringify(body),
        credentials: 'same-origin',
        cache: 'no-store',
      })
    } catch {
      throw navigator.onLine === false
        ? new ApiError(0, 'offline', 'You are offline.')
        : new ApiError(0, 'unreachable', 'The tagpress server is not answering.')
    }
    let data: {error?: string; code?: string} | undefined
    if (/^application\/json\b/i.test(response.headers.get('content-type') ?? '')) {
      try {
        data = (await response.json()) as {error?: string; code?: string}
      } catch {
        data = undefined
      }
    }
    if (data === undefined) {
      throw new ApiError(response.status, 'no_api', 'No ask API here (HTTP ' + response.status + ').')
    }
    if (!response.ok) {
      const retry = Number(response.headers.get('retry-after'))
      throw new ApiError(response.status, data.code ?? 'error', data.error ?? 'HTTP ' + response.status, Number.isFinite(retry) && retry > 0 ? retry : undefined)
    }
    return data as T
  }
}
