/**
 * Code blocks (`.tp-code`, from the compiler): a copy button on each, and
 * keyboard-scrollable `<pre>`s.
 */
import {announce} from './announce'

const ICON_COPY =
  '<svg class="tp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><rect x="9" y="9" width="11" height="11" rx="2"/><path d="M5 15V6a2 2 0 0 1 2-2h8"/></svg>'

let listening = false

/** Add copy buttons where missing (callable again after content is swapped in place). */
export function initCode(): void {
  const blocks = document.querySelectorAll<HTMLElement>('.tp-code')
  if (blocks.length === 0) return
  for (const block of blocks) {
    const pre = block.querySelector('pre')
    if (pre === null || block.querySelector(':scope > .tp-copy') !== null) continue
    if (!pre.hasAttribute('tabindex')) pre.tabIndex = 0
    const button = document.createElement('button')
    button.type = 'button'
    button.className = 'tp-copy'
    button.setAttribute('aria-label', 'Copy code')
    button.innerHTML = ICON_COPY + '<span class="tp-copy-done" aria-hidden="true">Copied</span>'
    block.append(button)
  }
  if (listening) return
  listening = true
  document.addEventListener('click', (event) => {
    const button = event.target instanceof Element ? event.target.closest<HTMLButtonElement>('.tp-copy') : null
    const pre = button?.parentElement?.querySelector('pre')
    if (button == null || pre == null) return
    const text = (pre.querySelector('code') ?? pre).textContent ?? ''
    void copy(text).then((ok) => {
      if (!ok) {
        announce('Copy failed')
        return
      }
      button.classList.add('is-copied')
      button.setAttribute('aria-label', 'Copied')
      announce('Code copied to clipboard')
      setTimeout(() => {
        button.classList.remove('is-copied')
        button.setAttribute('aria-label', 'Copy code')
      }, 2000)
    })
  })
}

/** Copy text to the clipboard; the old textarea way on insecure origins. Shared with the ask panel. */
export async function copy(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    return copyWithTextarea(text)
  }
}

/** For insecure origins (http on a LAN address) and old browsers. */
function copyWithTextarea(text: string): boolean {
  const area = document.createElement('textarea')
  area.value = text
  area.setAttribute('readonly', '')
  area.style.cssText = 'position:fixed;top:0;left:0;opacity:0;pointer-events:none'
  const previous = document.activeElement
  document.body.append(area)
  area.select()
  let ok = false
  try {
    ok = document.execCommand('copy')
  } catch {
    ok = false
  }
  area.remove()
  if (previous instanceof HTMLElement) previous.focus()
  return ok
}
