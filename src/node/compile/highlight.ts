import {createCssVariablesTheme, createHighlighterCore, type HighlighterCore} from 'shiki/core'
import {createJavaScriptRegexEngine} from 'shiki/engine/javascript'
import {bundledLanguages, bundledLanguagesAlias} from 'shiki/langs'
import type {Highlight} from '../../../plugins/rehype-code/index.js'

/**
 * One theme of CSS variables: code is tokenized once (a light and a dark
 * theme would tokenize it twice) and the theme's CSS picks the colours for
 * light and dark mode (`site/styles/code-tokens.css`).
 */
const theme = createCssVariablesTheme({name: 'tagpress', variablePrefix: '--tp-code-', fontStyle: true})

let highlighter: Promise<HighlighterCore> | undefined
const loaded = new Map<string, Promise<boolean>>()
/** Highlighted code by language and text: docs repeat snippets, and rebuilds repeat everything. */
const memo = new Map<string, string>()
const memoLimit = 2000

/**
 * Build-time highlighting with shiki (JavaScript regex engine: no WASM, quick
 * to start), languages loaded on first use, once per thread. Returns the
 * `<pre>` as HTML: short class names instead of inline styles keep pages small.
 */
export const highlight: Highlight = async (code, lang) => {
  const id = canonical(lang)
  if (!id) return undefined
  const memoKey = id + '\0' + code
  const known = memo.get(memoKey)
  if (known !== undefined) return known
  const core = await (highlighter ??= createHighlighterCore({engine: createJavaScriptRegexEngine(), themes: [theme], langs: []}))
  let ready = loaded.get(id)
  if (!ready) {
    const loader = bundledLanguages[id as keyof typeof bundledLanguages]
    ready = core.loadLanguage(loader()).then(() => true, () => false)
    loaded.set(id, ready)
  }
  if (!(await ready)) return undefined
  // No time limit per line (shiki's default gives up after 500 ms): under load, or while the regexes
  // are first compiled, a limit would make the same code highlight differently from build to build.
  const {tokens} = core.codeToTokens(code, {lang: id, theme: 'tagpress', tokenizeTimeLimit: 0})
  let html = '<pre class="shiki" tabindex="0"><code>'
  for (let line = 0; line < tokens.length; line++) {
    if (line > 0) html += '\n'
    html += '<span class="line">'
    for (const token of tokens[line] ?? []) {
      const name = token.color ? tokenClass(token.color) : undefined
      const italic = token.fontStyle !== undefined && token.fontStyle > 0 && (token.fontStyle & 1) === 1
      const classes = (name ? 'sk-' + name : '') + (italic ? (name ? ' ' : '') + 'sk-i' : '')
      html += classes ? '<span class="' + classes + '">' + escape(token.content) + '</span>' : escape(token.content)
    }
    html += '</span>'
  }
  html += '</code></pre>'
  if (memo.size >= memoLimit) memo.delete(memo.keys().next().value as string)
  memo.set(memoKey, html)
  return html
}

/** `var(--tp-code-token-keyword)` → `keyword`; the foreground colour needs no class. */
function tokenClass(color: string): string | undefined {
  const match = /^var\(--tp-code-(?:token-)?([a-z-]+)\)$/.exec(color)
  if (!match || match[1] === 'foreground') return undefined
  return match[1]
}

function escape(text: string): string {
  return text.replace(/[&<>]/g, (char) => (char === '&' ? '&amp;' : char === '<' ? '&lt;' : '&gt;'))
}

/** The bundled language id for a fence's info (`ts` → `typescript`), if shiki has it. */
function canonical(lang: string): string | undefined {
  const name = lang.toLowerCase()
  if (name in bundledLanguages) return name
  const alias = (bundledLanguagesAlias as Record<string, unknown>)[name]
  if (!alias) return undefined
  for (const [id, load] of Object.entries(bundledLanguages)) if (load === alias) return id
  return undefined
}

/** Highlighted code a previous compile produced, `[lang, code, html]`: reused without starting shiki. */
export type HighlightEntry = [string, string, string]

export function rememberHighlights(entries: readonly HighlightEntry[]): void {
  for (const [lang, code, html] of entries) {
    const id = canonical(lang)
    if (id && memo.size < memoLimit) memo.set(id + '\0' + code, html)
  }
}

/** The highlighted HTML of these code blocks, where this thread has it. */
export function highlightsOf(blocks: ReadonlyArray<[string, string]>): HighlightEntry[] {
  const entries: HighlightEntry[] = []
  for (const [lang, code] of blocks) {
    const id = canonical(lang)
    const html = id ? memo.get(id + '\0' + code) : undefined
    if (html !== undefined) entries.push([lang, code, html])
  }
  return entries
}
