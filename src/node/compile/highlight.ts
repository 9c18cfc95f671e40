import type {Element} from 'hast'
import {createHighlighterCore, type HighlighterCore} from 'shiki/core'
import {createJavaScriptRegexEngine} from 'shiki/engine/javascript'
import {bundledLanguages, bundledLanguagesAlias} from 'shiki/langs'
import {bundledThemes} from 'shiki/themes'
import type {Highlight} from '../../../plugins/rehype-code/index.js'

const themes = {light: 'github-light', dark: 'github-dark'} as const

let highlighter: Promise<HighlighterCore> | undefined
const loaded = new Map<string, Promise<boolean>>()

/**
 * Build-time highlighting with shiki (JavaScript regex engine: no WASM, quick
 * to start), both themes at once (CSS variables switch them), languages
 * loaded on first use, once per thread.
 */
export const highlight: Highlight = async (code, lang) => {
  const id = canonical(lang)
  if (!id) return undefined
  const core = await (highlighter ??= createHighlighterCore({
    engine: createJavaScriptRegexEngine(),
    themes: [bundledThemes[themes.light](), bundledThemes[themes.dark]()],
    langs: []
  }))
  let ready = loaded.get(id)
  if (!ready) {
    const loader = bundledLanguages[id as keyof typeof bundledLanguages]
    ready = core.loadLanguage(loader()).then(() => true, () => false)
    loaded.set(id, ready)
  }
  if (!(await ready)) return undefined
  const root = core.codeToHast(code, {lang: id, themes, defaultColor: 'light'})
  const pre = root.children[0]
  return pre?.type === 'element' ? (pre as Element) : undefined
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
