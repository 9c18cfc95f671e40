import {closeSync, linkSync, mkdirSync, openSync, readSync, copyFileSync, existsSync, statSync} from 'node:fs'
import path from 'node:path'
import type {Config} from '../config/types.js'
import {asideName, replaceSync, writeAtomicSync} from '../fs/atomic.js'
import {escapeHtml, escapeUrl, renderPage} from '../site/layout.js'
import type {SiteNav} from '../site/nav.js'
import type {PageModel} from '../site/page-model.js'
import {emptyModel} from './site.js'

/** One output as the manifest lists it. */
export interface ManifestEntry {
  records?: number
  pages?: number
  bytes?: number
  sha256: string
}

export const datasetsPage = 'downloads/index.html'
export const trainPage = 'downloads/train.html'

/**
 * The generated pages: "Datasets" (every output of the build with its
 * record count, size and SHA-256, exactly as in the manifest, a download
 * link served from the site itself, and a few sample records) and "Train a
 * model" (commands for these files). Downloads are hard links to the outputs
 * (a copy where links are not possible), refreshed when an output changes.
 */
export function writeDownloads(
  config: Config,
  nav: SiteNav,
  assets: PageModel['assets'],
  outputs: Record<string, ManifestEntry>,
  buildId: string
): string[] {
  const siteDir = path.join(config.out, 'site')
  const base = config.site.base
  const files: string[] = [datasetsPage, trainPage]
  const downloads = Object.entries(outputs).filter(([file]) => file !== 'site' && !file.startsWith('site/'))
  for (const [file] of downloads) {
    const target = 'downloads/files/' + file
    publish(path.join(config.out, file), path.join(siteDir, target))
    files.push(target)
  }

  let body = '<h1 id="datasets">Datasets</h1>\n'
  body += '<p>Everything this build produced from the site\'s Markdown, with the figures of <a href="' + escapeUrl(base + 'downloads/files/manifest.json') + '"><code>manifest.json</code></a> (build <code>' + escapeHtml(buildId.slice(0, 12)) + '</code>). See <a href="' + escapeUrl(base + trainPage) + '">Train a model</a> for what to do with them.</p>\n'
  body += '<div class="tp-table-wrap"><table class="tp-downloads">\n<thead><tr><th scope="col">File</th><th scope="col">Records</th><th scope="col">Size</th><th scope="col">SHA-256</th></tr></thead>\n<tbody>\n'
  for (const [file, entry] of downloads) {
    body += '<tr data-file="' + escapeHtml(file) + '"><td><a href="' + escapeUrl(base + 'downloads/files/' + file) + '" download>' + escapeHtml(file) + '</a></td><td>' + (entry.records ?? '') + '</td><td>' + size(entry.bytes) + '</td><td><code class="tp-sha" title="' + escapeHtml(entry.sha256) + '" data-sha256="' + escapeHtml(entry.sha256) + '">' + escapeHtml(entry.sha256.slice(0, 12)) + '…</code></td></tr>\n'
  }
  body += '</tbody></table></div>\n'
  body += '<h2 id="samples">Samples</h2>\n<p>The first records of each file.</p>\n'
  for (const [file] of downloads) {
    const sample = sampleOf(path.join(config.out, file))
    if (!sample) continue
    body += '<details class="tp-sample" id="' + escapeHtml(slug(file)) + '"><summary><code>' + escapeHtml(file) + '</code></summary>\n' + sample + '</details>\n'
  }
  publish(path.join(config.out, 'manifest.json'), path.join(siteDir, 'downloads', 'files', 'manifest.json'))
  files.push('downloads/files/manifest.json')

  writePage(config, nav, assets, 'downloads/index', 'Datasets', 'Every file this build produced, with counts, sizes, SHA-256 and samples.', body)
  writePage(config, nav, assets, 'downloads/train', 'Train a model', 'Commands to train on this site\'s datasets and to use the decks and trees.', trainBody(config, downloads))
  return files
}

function writePage(config: Config, nav: SiteNav, assets: PageModel['assets'], fileId: string, title: string, description: string, bodyHtml: string): void {
  const prev = nav.prev(fileId)
  const next = nav.next(fileId)
  const model: PageModel = {
    ...emptyModel(config, assets),
    title,
    description,
    path: fileId + '.html',
    bodyHtml,
    nav: nav.sidebar(fileId),
    breadcrumbs: nav.breadcrumbs(fileId).filter((crumb) => crumb.url !== nav.url(fileId)),
    ...(prev ? {prev} : {}),
    ...(next ? {next} : {})
  }
  writeAtomicSync(path.join(config.out, 'site', fileId + '.html'), renderPage(model))
}

/** "Train a model": commands naming the files this build wrote. */
function trainBody(config: Config, downloads: Array<[string, ManifestEntry]>): string {
  const out = path.relative(config.root, config.out) || '.'
  const has = (file: string): boolean => downloads.some(([name]) => name === file || name.startsWith(file + '/'))
  const code = (text: string): string => '<div class="tp-code" data-lang="bash"><pre><code>' + escapeHtml(text) + '</code></pre></div>\n'
  let body = '<h1 id="train-a-model">Train a model</h1>\n<p>These commands use the files this build wrote under <code>' + escapeHtml(out) + '/</code>.</p>\n'
  const litgpt = downloads.filter(([name]) => name.startsWith('datasets/litgpt/'))
  if (litgpt.length > 0) {
    // Instruction folders (`{instruction, input, output}`); the chat folder is for other trainers.
    const sft = [...new Set(litgpt.map(([name]) => name).filter((name) => name.endsWith('/train.jsonl') && !name.includes('/chat/')).map((name) => path.posix.dirname(name)))]
    const text = [...new Set(litgpt.map(([name]) => name).filter((name) => name.endsWith('.txt')).map((name) => path.posix.dirname(name)))]
    body += '<h2 id="finetune">Fine-tune with LitGPT</h2>\n'
    for (const folder of sft) {
      body += '<p>Instruction data in <code>' + escapeHtml(folder) + '/</code> (<code>train.jsonl</code> and <code>val.jsonl</code>):</p>\n'
      body += code(`litgpt finetune_lora <checkpoint_dir> --data JSON --data.json_path ${out}/${folder} --train.max_seq_length ${config.litgpt.contextLength} --out_dir ${out}/lora`)
    }
    if (text.length > 0) {
      const train = text.find((folder) => !folder.endsWith('/val')) ?? text[0]
      const val = text.find((folder) => folder.endsWith('/val'))
      body += '<h2 id="pretrain">Pretrain on the text</h2>\n'
      body += code(`litgpt pretrain <model_name> --tokenizer_dir <checkpoint_dir> --data TextFiles --data.train_data_path ${out}/${train}${val ? ` --data.val_data_path ${out}/${val}` : ''} --train.max_seq_length ${config.litgpt.contextLength}`)
    }
  }
  if (has('datasets/qa.jsonl')) {
    body += '<h2 id="records">The records themselves</h2>\n<p><code>' + escapeHtml(out) + '/datasets/qa.jsonl</code>, <code>blocks.jsonl</code> and <code>chapters.jsonl</code> hold one record a line; <code>tagpress export</code> filters, shards and converts them.</p>\n'
  }
  const decks = downloads.filter(([name]) => name.startsWith('anki/') && name.endsWith('.apkg'))
  if (decks.length > 0) {
    body += '<h2 id="anki">Study the cards in Anki</h2>\n<p>Import <code>' + decks.map(([name]) => escapeHtml(name)).join('</code>, <code>') + '</code> with File → Import in Anki desktop (or open it on AnkiDroid / AnkiMobile). Re-importing a rebuilt deck updates the cards that changed.</p>\n'
  }
  if (has('mongo/nodes.jsonl')) {
    body += '<h2 id="mongodb">Load the Q&amp;A trees into MongoDB</h2>\n'
    body += code(`mongoimport --uri "$MONGODB_URI" --db ${config.mongo.db} --collection nodes --mode upsert --file ${out}/mongo/nodes.jsonl`)
  }
  body += '<h2 id="serve-back">Serve the trained model to the ask panel</h2>\n<p>Convert the fine-tuned checkpoint to GGUF, create an Ollama model from it, and point the panel at it:</p>\n'
  body += code(`ollama create my-docs -f Modelfile\nTAGPRESS_MODEL=my-docs npx tagpress serve`)
  body += '<p>Or serve it with LitGPT\'s OpenAI-compatible server and set <code>llm.backend</code> to <code>openai</code>:</p>\n'
  body += code(`litgpt serve ${out}/lora/final --port 8000 --openai_spec true`)
  return body
}

/** The first few records of a JSONL file (pretty-printed), or the head of a text file. */
function sampleOf(file: string): string | undefined {
  if (!/\.(jsonl|tsv|txt|json)$/.test(file) || !existsSync(file)) return undefined
  const head = readHead(file, 64 * 1024)
  if (file.endsWith('.jsonl')) {
    const lines = head.split('\n').filter((line) => line.trim() !== '').slice(0, 2)
    const pretty = lines
      .map((line) => {
        try {
          return JSON.stringify(JSON.parse(line), null, 2)
        } catch {
          return line
        }
      })
      .join('\n')
    return lines.length > 0 ? '<div class="tp-code" data-lang="json"><pre><code>' + escapeHtml(clip(pretty)) + '</code></pre></div>\n' : undefined
  }
  const lines = head.split('\n').slice(0, 6).join('\n')
  return lines.trim() ? '<div class="tp-code"><pre><code>' + escapeHtml(clip(lines)) + '</code></pre></div>\n' : undefined
}

function clip(text: string): string {
  return text.length > 3000 ? text.slice(0, 3000) + '\n…' : text
}

function readHead(file: string, bytes: number): string {
  const fd = openSync(file, 'r')
  try {
    const buffer = Buffer.alloc(bytes)
    const read = readSync(fd, buffer, 0, bytes, 0)
    return buffer.subarray(0, read).toString('utf8')
  } finally {
    closeSync(fd)
  }
}

/**
 * A download is a hard link to the output (no second copy), or a copy across file systems. It replaces the old link
 * like any output (`replaceSync`): the old link is often the last name of the previous build's file, and removing it
 * in the call freed that file's blocks there (~120 ms for an edit's ~550 MB of outputs at 10,000 files).
 */
function publish(from: string, to: string): void {
  const source = statSync(from)
  const target = statSync(to, {throwIfNoEntry: false})
  // Linked already (an output this build did not rewrite): a rename onto the same file would do nothing and leave the aside name.
  if (target && target.ino === source.ino && target.dev === source.dev) return
  mkdirSync(path.dirname(to), {recursive: true})
  const aside = asideName(to)
  try {
    linkSync(from, aside)
  } catch {
    copyFileSync(from, aside)
  }
  replaceSync(aside, to)
}

function size(bytes: number | undefined): string {
  if (bytes === undefined) return ''
  if (bytes < 1024) return bytes + '&nbsp;B'
  if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + '&nbsp;KB'
  return (bytes / 1024 / 1024).toFixed(1) + '&nbsp;MB'
}

function slug(file: string): string {
  return 'file-' + file.replace(/[^a-z0-9]+/gi, '-').toLowerCase()
}

