import {createReadStream, statSync} from 'node:fs'
import type {IncomingMessage, ServerResponse} from 'node:http'
import path from 'node:path'

/** Content types by extension, for every server of ours. */
export const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.jsonl': 'application/x-ndjson; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.tsv': 'text/tab-separated-values; charset=utf-8',
  '.apkg': 'application/octet-stream',
  '.gz': 'application/gzip'
}

/**
 * Serve a built site folder under `base` the way a static host does:
 * `/guide/` → `guide/index.html`, `/guide/intro` → `guide/intro.html`,
 * unknown paths → `404.html` with status 404. Content-hashed assets are
 * cached forever, everything else revalidated.
 */
export function createStaticHandler(root: string, base: string) {
  const rootDir = path.resolve(root)
  return (request: IncomingMessage, response: ServerResponse): boolean => {
    const url = new URL(request.url ?? '/', 'http://localhost')
    if (!url.pathname.startsWith(base) && url.pathname + '/' !== base) return false
    let relative: string
    try {
      relative = decodeURIComponent(url.pathname.slice(base.length))
    } catch {
      relative = ''
    }
    const file = resolveFile(rootDir, relative)
    if (file) send(response, file, 200, relative.startsWith('assets/'))
    else {
      const notFound = path.join(rootDir, '404.html')
      if (isFile(notFound)) send(response, notFound, 404, false)
      else {
        response.writeHead(404, {'content-type': 'text/plain; charset=utf-8'})
        response.end('Not found\n')
      }
    }
    return true
  }
}

function resolveFile(root: string, relative: string): string | undefined {
  const target = path.resolve(root, relative)
  if (target !== root && !target.startsWith(root + path.sep)) return undefined
  for (const candidate of [target, path.join(target, 'index.html'), target + '.html']) {
    if (isFile(candidate)) return candidate
  }
  return undefined
}

function isFile(file: string): boolean {
  return statSync(file, {throwIfNoEntry: false})?.isFile() === true
}

function send(response: ServerResponse, file: string, status: number, immutable: boolean): void {
  const stat = statSync(file)
  response.writeHead(status, {
    'content-type': contentTypes[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
    'content-length': stat.size,
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    'x-content-type-options': 'nosniff'
  })
  createReadStream(file).pipe(response)
}
