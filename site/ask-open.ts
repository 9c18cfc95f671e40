/**
 * The "ask this page" button in the header and its shortcut (Ctrl/Cmd-I):
 * the panel (site/ask/panel.ts, with its styles) is a separate chunk, fetched
 * on first use, when the pointer or focus reaches the button, or at once when
 * the panel was open in this tab before a reload or a page change.
 */
type AskModule = typeof import('./ask/panel')

let loading: Promise<AskModule> | undefined

function load(): Promise<AskModule> {
  loading ??= import('./ask/panel').catch((error: unknown) => {
    loading = undefined
    throw error
  })
  return loading
}

export function initAskOpen(): void {
  const button = document.querySelector<HTMLElement>('[data-tp-ask-open]')
  if (button === null) return
  const run = (how: 'toggle' | 'shortcut' | 'restore'): void => {
    load().then((ask) => ask.askPanel(button, how), (error: unknown) => console.error('tagpress: could not load the ask panel', error))
  }
  button.addEventListener('click', () => run('toggle'))
  const warm = (): void => void load().catch(() => undefined)
  button.addEventListener('pointerenter', warm, {once: true})
  button.addEventListener('focus', warm, {once: true})
  document.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.isComposing || event.altKey || event.shiftKey || document.querySelector('dialog:modal')) return
    if ((event.key === 'i' || event.key === 'I') && (event.ctrlKey || event.metaKey) && !(event.target instanceof HTMLElement && event.target.isContentEditable)) {
      event.preventDefault()
      run('shortcut')
    }
  })
  try {
    if (sessionStorage.getItem('tagpress-ask-open') === '1') run('restore')
  } catch {
    // Storage disabled: nothing to restore.
  }
}
