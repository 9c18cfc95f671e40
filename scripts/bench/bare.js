// The baseline: a bare unified pipeline (remark-parse → remark-rehype →
// rehype-stringify) reading the same files and writing one HTML file each,
// on N worker threads; `--highlight` adds tagpress's own highlighter, so the
// comparison is like for like, and `--gfm` remark-gfm, the syntax the SPEC
// requires on top of CommonMark. Prints JSON: {ms, files, maxRssKB}.
import {mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {Worker, isMainThread, parentPort, workerData} from 'node:worker_threads'

async function processFiles(files, content, out, highlight, gfm) {
  const {unified} = await import('unified')
  const remarkParse = (await import('remark-parse')).default
  const remarkRehype = (await import('remark-rehype')).default
  const rehypeStringify = (await import('rehype-stringify')).default
  const processor = unified().use(remarkParse)
  if (gfm) processor.use((await import('remark-gfm')).default)
  processor.use(remarkRehype)
  if (highlight) {
    const rehypeCode = (await import('../../dist/plugins/rehype-code/index.js')).default
    const {highlight: shiki} = await import('../../dist/src/node/compile/highlight.js')
    processor.use(rehypeCode, {highlight: shiki})
  }
  processor.use(rehypeStringify, {allowDangerousHtml: true})
  for (const file of files) {
    const html = String(await processor.process(readFileSync(path.join(content, file), 'utf8')))
    const target = path.join(out, file.replace(/\.md$/, '.html'))
    mkdirSync(path.dirname(target), {recursive: true})
    writeFileSync(target, html)
  }
}

if (isMainThread) {
  const [content, out, threadsArg, ...flags] = process.argv.slice(2)
  const threads = Number(threadsArg ?? 1)
  const highlight = flags.includes('--highlight')
  const gfm = flags.includes('--gfm')
  const started = performance.now()
  const files = readdirSync(content, {recursive: true, encoding: 'utf8'}).filter((file) => file.endsWith('.md')).sort()
  if (threads <= 1) await processFiles(files, content, out, highlight, gfm)
  else {
    const chunks = Array.from({length: threads}, () => [])
    files.forEach((file, index) => chunks[index % threads].push(file))
    await Promise.all(
      chunks.map(
        (chunk) =>
          new Promise((resolve, reject) => {
            const worker = new Worker(new URL(import.meta.url), {workerData: {files: chunk, content, out, highlight, gfm}})
            worker.on('message', resolve)
            worker.on('error', reject)
          })
      )
    )
  }
  console.log(JSON.stringify({ms: performance.now() - started, files: files.length, maxRssKB: process.resourceUsage().maxRSS}))
} else {
  const {files, content, out, highlight, gfm} = workerData
  await processFiles(files, content, out, highlight, gfm)
  parentPort.postMessage('done')
}
