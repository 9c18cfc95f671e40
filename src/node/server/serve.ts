import {isLoopbackHost} from './loopback.js'
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import type {Config} from '../config/types.js'
import {UserError} from '../errors.js'
import {createStaticHandler} from './static.js'

/** A request handler: returns whether it answered the request. */
export type Handler = (request: IncomingMessage, response: ServerResponse) => boolean | Promise<boolean>

/**
 * `tagpress serve`: the built `out/site/` as a static host would serve it,
 * plus the APIs (`/api/…`) that the dev server mounts too.
 */
export async function startServe(config: Config, options: {port?: number; host?: string} = {}): Promise<{url: string; close: () => Promise<void>}> {
  const apis = await apiHandlers(config)
  const handlers: Handler[] = [...apis.handlers, createStaticHandler(path.join(config.out, 'site'), config.site.base)]
  const server = createServer((request, response) => {
    void (async () => {
      for (const handler of handlers) if (await handler(request, response)) return
      response.writeHead(404, {'content-type': 'text/plain; charset=utf-8'})
      response.end('Not found\n')
    })().catch((error: Error) => {
      if (!response.headersSent) response.writeHead(500, {'content-type': 'text/plain; charset=utf-8'})
      response.end('Internal error: ' + error.message + '\n')
    })
  })
  const port = options.port ?? config.server.port ?? 4173
  const host = options.host ?? config.server.host
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new UserError('Port ' + port + ' is in use; pass --port') : error)
    )
    server.listen(port, host, resolve)
  })
  const address = server.address() as AddressInfo
  const shown = address.address.includes(':') ? '[' + address.address + ']' : address.address
  return {
    url: 'http://' + shown + ':' + address.port + config.site.base,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await apis.close()
    }
  }
}

/** The APIs shared by `serve` and the dev server: the dataset export stream and the ask engine. */
export async function apiHandlers(config: Config, options: {drafts?: boolean} = {}): Promise<{handlers: Handler[]; close: () => Promise<void>}> {
  const requireToken = !isLoopbackHost(config.server.host)
  if (requireToken && !config.server.token) {
    throw new UserError('The server is bound to ' + config.server.host + ', beyond this machine: set TAGPRESS_TOKEN (or server.token) so the APIs require a bearer token')
  }
  const token = config.server.token ? {token: config.server.token} : {}
  const [{createExportHandler}, {createAskApi}] = await Promise.all([import('./export-endpoint.js'), import('../ask/http.js')])
  const exportHandler = createExportHandler({out: config.out, kinds: config.litgpt.kinds, ...(config.litgpt.tokenizer ? {tokenizer: config.litgpt.tokenizer} : {}), requireToken, ...token})
  const ask = createAskApi(config, {requireToken, ...token, ...(options.drafts ? {drafts: true} : {})})
  return {
    handlers: [withBase(config.site.base, exportHandler), ask.handler],
    close: () => ask.close()
  }
}

/** The export stream answers at `/api/export/…`; under a base path the site's own links use `<base>api/export/…`. */
function withBase(base: string, handler: Handler): Handler {
  if (base === '/') return handler
  return (request, response) => {
    if (request.url?.startsWith(base + 'api/')) request.url = request.url.slice(base.length - 1)
    return handler(request, response)
  }
}

