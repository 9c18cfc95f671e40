import {createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {once} from 'node:events'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createExportHandler, type ExportHandler} from '../src/node/server/export-endpoint.js'
import {isLoopbackHost} from '../src/node/server/loopback.js'

let dir: string
let size: number
const records = 100_000

async function serve(handler: ExportHandler): Promise<{port: number; close: () => Promise<void>}> {
  const server = http.createServer((request, response) => {
    if (!handler(request, response)) {
      response.writeHead(404)
      response.end()
    }
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    }
  }
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function until(test: () => boolean, ms = 5000): Promise<void> {
  const start = Date.now()
  while (!test()) {
    if (Date.now() - start > ms) throw new Error('timed out')
    await wait(10)
  }
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'tagpress-endpoint-'))
  mkdirSync(path.join(dir, 'out/datasets'), {recursive: true})
  // ~40 MB of Q/A records.
  const stream = createWriteStream(path.join(dir, 'out/datasets/qa.jsonl'))
  const filler = 'x'.repeat(300)
  for (let index = 0; index < records; index++) {
    const line = JSON.stringify({id: `f${index % 50}#q-${index}`, file_id: `guide/f${index % 50}`, chapter_id: `1.${index % 3}`, chapter_tree: ['Guide', 'F'], question: `Question ${index}?`, answer: filler, url: ''}) + '\n'
    if (!stream.write(line)) await once(stream, 'drain')
  }
  stream.end()
  await once(stream, 'finish')
  size = statSync(path.join(dir, 'out/datasets/qa.jsonl')).size
  writeFileSync(path.join(dir, 'out/datasets/blocks.jsonl'), '')
  writeFileSync(path.join(dir, 'out/datasets/chapters.jsonl'), '')
})
afterAll(() => rmSync(dir, {recursive: true, force: true}))

describe('GET /api/export/<dataset>.jsonl', () => {
  it('streams the first record before the last is read, as chunked x-ndjson', async () => {
    const handler = createExportHandler({out: path.join(dir, 'out')})
    const server = await serve(handler)
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/api/export/qa.jsonl`)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8')
      expect(response.headers.get('transfer-encoding')).toBe('chunked')
      const reader = (response.body as ReadableStream<Uint8Array>).getReader()
      const first = await reader.read()
      const text = Buffer.from(first.value as Uint8Array).toString('utf8')
      expect(JSON.parse(text.slice(0, text.indexOf('\n'))).question).toBe('Question 0?')
      // The server has read a small part of the file when the first record arrives.
      expect(handler.stats.bytesRead).toBeLessThan(size / 4)
      let received = first.value?.length ?? 0
      for (;;) {
        const {done, value} = await reader.read()
        if (done) break
        received += value.length
      }
      expect(received).toBe(size)
      await until(() => handler.stats.completed === 1)
    } finally {
      await server.close()
    }
  })

  it('filters by the query, like --filter', async () => {
    const handler = createExportHandler({out: path.join(dir, 'out')})
    const server = await serve(handler)
    try {
      const text = await (await fetch(`http://127.0.0.1:${server.port}/api/export/qa.jsonl?file=guide/f7&chapter=1.1&format=alpaca`)).text()
      const lines = text.trimEnd().split('\n').map((line) => JSON.parse(line))
      let expected = 0
      for (let index = 0; index < records; index++) if (index % 50 === 7 && index % 3 === 1) expected++
      expect(lines.length).toBe(expected)
      expect(lines.every((record) => record.id.startsWith('f7#') && Object.keys(record).join() === 'instruction,input,output,id,kind')).toBe(true)
      expect(lines.length).toBeGreaterThan(600)
      const bad = await fetch(`http://127.0.0.1:${server.port}/api/export/qa.jsonl?colour=red`)
      expect(bad.status).toBe(400)
      expect((await bad.json()).error).toMatch(/Unknown query key `colour`/)
      expect((await fetch(`http://127.0.0.1:${server.port}/api/export/nope.jsonl`)).status).toBe(400)
      expect((await fetch(`http://127.0.0.1:${server.port}/api/export/qa.jsonl`, {method: 'POST'})).status).toBe(405)
      expect((await fetch(`http://127.0.0.1:${server.port}/elsewhere`)).status).toBe(404)
      const gz = await fetch(`http://127.0.0.1:${server.port}/api/export/qa.jsonl?gzip=1&file=guide/f1`)
      expect(gz.headers.get('content-encoding')).toBe('gzip')
      expect((await gz.text()).split('\n').length).toBeGreaterThan(1000)
    } finally {
      await server.close()
    }
  })

  it('says 404 when the datasets are not built', async () => {
    const handler = createExportHandler({out: path.join(dir, 'nowhere')})
    const server = await serve(handler)
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/api/export/qa.jsonl`)
      expect(response.status).toBe(404)
      expect((await response.json()).error).toMatch(/build/)
    } finally {
      await server.close()
    }
  })

  it('survives a client that disconnects mid-stream, and closes the file', async () => {
    const handler = createExportHandler({out: path.join(dir, 'out')})
    const server = await serve(handler)
    try {
      const socket = net.connect(server.port, '127.0.0.1')
      socket.write('GET /api/export/qa.jsonl HTTP/1.1\r\nHost: localhost\r\n\r\n')
      let got = 0
      await new Promise<void>((resolve) => {
        socket.on('data', (data) => {
          got += data.length
          if (got > 200_000) resolve()
        })
      })
      socket.destroy()
      await until(() => handler.stats.active === 0)
      expect(handler.stats.aborted).toBe(1)
      expect(handler.stats.bytesRead).toBeLessThan(size)
      // The server goes on serving.
      const response = await fetch(`http://127.0.0.1:${server.port}/api/export/qa.jsonl?id=f3%23q-3`)
      expect((await response.text()).trimEnd().split('\n')).toHaveLength(1)
    } finally {
      await server.close()
    }
  })

  it('does not buffer the corpus for a slow reader', async () => {
    const handler = createExportHandler({out: path.join(dir, 'out')})
    const server = await serve(handler)
    try {
      const socket = net.connect(server.port, '127.0.0.1')
      // A small receive window, and a reader that stops reading after the first bytes.
      socket.setNoDelay(true)
      socket.write('GET /api/export/qa.jsonl HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')
      let received = 0
      await new Promise<void>((resolve) => socket.once('data', (data) => {
        received += data.length
        resolve()
      }))
      socket.pause()
      const rss = process.memoryUsage().rss
      await wait(1000)
      const read = handler.stats.bytesRead
      const buffered = handler.stats.bytesRead - received
      await wait(500)
      // Stalled: no more reading, and what was read but not received is bounded by socket buffers and one chunk or two.
      expect(handler.stats.bytesRead).toBe(read)
      expect(buffered).toBeLessThan(16 * 1024 * 1024)
      expect(read).toBeLessThan(size / 2)
      expect(process.memoryUsage().rss - rss).toBeLessThan(64 * 1024 * 1024)
      console.log(`slow reader: file ${(size / 1e6).toFixed(1)} MB, server read ${(read / 1e6).toFixed(2)} MB, client received ${(received / 1e6).toFixed(2)} MB while paused`)
      // Reading again gets everything.
      socket.on('data', (data) => (received += data.length))
      socket.resume()
      await once(socket, 'end')
      expect(handler.stats.completed).toBe(1)
      expect(received).toBeGreaterThan(size)
    } finally {
      await server.close()
    }
  })

  it('requires a bearer token when asked to', async () => {
    const handler = createExportHandler({out: path.join(dir, 'out'), requireToken: true, token: 's3cret'})
    const server = await serve(handler)
    const url = `http://127.0.0.1:${server.port}/api/export/qa.jsonl?id=f1%23q-1`
    try {
      const none = await fetch(url)
      expect(none.status).toBe(401)
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/)
      expect((await fetch(url, {headers: {authorization: 'Bearer wrong'}})).status).toBe(401)
      const ok = await fetch(url, {headers: {authorization: 'Bearer s3cret'}})
      expect(ok.status).toBe(200)
      expect((await ok.text()).trimEnd().split('\n')).toHaveLength(1)
    } finally {
      await server.close()
    }
    const unset = createExportHandler({out: path.join(dir, 'out'), requireToken: true})
    const other = await serve(unset)
    try {
      const response = await fetch(`http://127.0.0.1:${other.port}/api/export/qa.jsonl`)
      expect(response.status).toBe(403)
      expect((await response.json()).error).toMatch(/server\.token/)
    } finally {
      await other.close()
    }
    expect(isLoopbackHost('127.0.0.1')).toBe(true)
    expect(isLoopbackHost('localhost')).toBe(true)
    expect(isLoopbackHost('[::1]')).toBe(true)
    expect(isLoopbackHost('0.0.0.0')).toBe(false)
    expect(isLoopbackHost('127.evil.example')).toBe(false)
    expect(isLoopbackHost('LOCALHOST')).toBe(true)
  })
})
