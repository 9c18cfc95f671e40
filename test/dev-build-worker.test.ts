import {existsSync, rmSync} from 'node:fs'
import path from 'node:path'
import {Worker} from 'node:worker_threads'
import {afterAll, describe, expect, it} from 'vitest'
import {Project} from './helpers/project.js'

// The dev server's build worker (compiled, as `tagpress dev` runs it), driven by the messages the server sends it.
const dist = path.join(import.meta.dirname, '..', 'dist', 'src', 'node')

describe('the dev server\'s build worker', () => {
  const project = new Project({'a.md': '# A\n\n[/Q]Is it here?[Q/] [/A]Yes.[A/]\n', 'b.md': '# B\n\nText.\n'})
  afterAll(() => project.dispose())

  it('compiles again a compile the main thread handed over whose file was collected since, instead of failing on it', async () => {
    const {loadConfig} = (await import(path.join(dist, 'config', 'load.js'))) as typeof import('../src/node/config/load.js')
    const {compileSource} = (await import(path.join(dist, 'build', 'build.js'))) as typeof import('../src/node/build/build.js')
    const config = await loadConfig(project.dir)
    const worker = new Worker(path.join(dist, 'dev', 'build-worker.js'), {workerData: {config, newer: new Int32Array(new SharedArrayBuffer(4))}})
    const run = (message: unknown) =>
      new Promise<{ok: boolean; error?: string}>((resolve, reject) => {
        worker.once('message', resolve)
        worker.once('error', reject)
        worker.postMessage(message)
      })
    try {
      expect(await run({compiled: []})).toMatchObject({ok: true})
      // An edit: the main thread compiles it at once (into the shared cache folder) and hands the compile over.
      project.write('a.md', '# A\n\n[/Q]Is it here?[Q/] [/A]Yes, edited.[A/]\n')
      const compiled = await compileSource(config, {}, 'a.md')
      expect(compiled).toBeDefined()
      const file = path.join(project.dir, '.tagpress', 'cache', 'files', compiled!.key.slice(0, 2), compiled!.key)
      expect(existsSync(file)).toBe(true)
      // Before the worker gets it, its last build collects the file as unused (the race an undone edit can meet).
      rmSync(file)
      const result = await run({changed: ['a.md'], compiled: [[compiled!.key, compiled!.meta]]})
      expect(result).toMatchObject({ok: true})
      expect(project.read('out/datasets/qa.jsonl')).toContain('Yes, edited.')
      expect(existsSync(file)).toBe(true)
    } finally {
      await worker.terminate()
    }
  })
})
