// A synthetic tagged-Markdown corpus for benchmarks: deterministic for a seed,
// ~5 KB per file, nested folders, every tag kind, code in three languages.
import {mkdirSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

/** mulberry32: a small, fast, seedable PRNG. */
function random(seed) {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const words = ('tagpress compiles tagged markdown into a website datasets decks and trees the block reader emits blocks of a section ' +
  'while the chapter reader emits whole sections with their subsections questions and answers become cards model training ' +
  'uses these records with litgpt which reads json and text folders authors write once and publish everywhere sections ' +
  'numbers titles anchors slugs navigation search index incremental cache workers threads progress errors positions').split(' ')

const code = {
  ts: (r) => `export function total(items: number[]): number {\n  let sum = 0\n  for (const item of items) sum += item * ${Math.floor(r() * 100)}\n  return sum\n}\n\nconsole.log(total([1, 2, 3]))`,
  python: (r) => `def train(records, epochs=${1 + Math.floor(r() * 5)}):\n    """Train on the records."""\n    for epoch in range(epochs):\n        loss = sum(len(r["answer"]) for r in records)\n        print(f"epoch {epoch}: {loss}")\n    return loss`,
  bash: (r) => `npm install\nnpx tagpress build --out out-${Math.floor(r() * 1000)}\nlitgpt finetune_lora checkpoints/model --data JSON \\\n  --data.json_path out/datasets/litgpt/qa`
}

function sentence(r, min = 8, max = 18) {
  const count = min + Math.floor(r() * (max - min))
  const parts = []
  for (let i = 0; i < count; i++) parts.push(words[Math.floor(r() * words.length)])
  const text = parts.join(' ')
  return text.charAt(0).toUpperCase() + text.slice(1)
}

function paragraph(r) {
  const parts = []
  const count = 2 + Math.floor(r() * 3)
  for (let i = 0; i < count; i++) {
    let s = sentence(r)
    const roll = r()
    if (roll < 0.2) s += ' with `inline code`'
    else if (roll < 0.35) s += ' and *emphasis* on **strong** words'
    else if (roll < 0.45) s += ' (see [the guide](https://example.com/guide))'
    parts.push(s + '.')
  }
  return parts.join(' ')
}

/** One ~5 KB page. */
export function page(r, index) {
  const out = [`---\ntitle: Page ${index}\ntags: [bench, t${index % 7}]\n---\n`, `# [/T]Topic ${index}[T/]: ${sentence(r, 3, 6)}\n`, paragraph(r) + ' [/BLOCKREAD/]\n']
  const sections = 4 + Math.floor(r() * 2)
  for (let s = 1; s <= sections; s++) {
    out.push(`## ${sentence(r, 2, 5)} ${s}\n`, paragraph(r) + '\n')
    out.push(`[/Q]${sentence(r, 5, 10)}?[Q/]\n[/A]${paragraph(r)}[A/]\n`)
    if (r() < 0.5) out.push(`- ${sentence(r, 4, 8)}\n- ${sentence(r, 4, 8)}\n- ${sentence(r, 4, 8)}\n`)
    if (s === 2) {
      const lang = ['ts', 'python', 'bash'][Math.floor(r() * 3)]
      out.push('```' + lang + '\n' + code[lang](r) + '\n```\n')
    }
    if (r() < 0.3) out.push(`| key | value |\n| --- | --- |\n| ${words[s]} | ${sentence(r, 2, 4)} |\n| ${words[s + 1]} | ${sentence(r, 2, 4)} |\n`)
    if (r() < 0.4) {
      out.push(`### ${sentence(r, 2, 4)}\n`, paragraph(r) + '\n')
    }
    out.push(r() < 0.5 ? '[/BLOCKREAD/]\n' : '[/CHAPTREEREAD/]\n')
  }
  return out.join('\n')
}

/** Write `count` pages under `dir` in nested folders (10 × 10 × …), deterministically. */
export function writeCorpus(dir, count, seed = 1) {
  rmSync(dir, {recursive: true, force: true})
  const r = random(seed)
  let bytes = 0
  for (let index = 0; index < count; index++) {
    const a = index % 10
    const b = Math.floor(index / 10) % 10
    const folder = path.join(dir, `part-${a}`, `chapter-${b}`)
    mkdirSync(folder, {recursive: true})
    const text = page(r, index)
    bytes += Buffer.byteLength(text)
    writeFileSync(path.join(folder, `page-${String(index).padStart(5, '0')}.md`), text)
  }
  return bytes
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [dir, count, seed] = process.argv.slice(2)
  const bytes = writeCorpus(dir, Number(count), Number(seed ?? 1))
  console.log(`${count} files, ${(bytes / Number(count) / 1024).toFixed(1)} KB each on average`)
}
