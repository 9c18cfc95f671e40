/**
 * Opens the search dialog from the header button, any `[data-tp-search-open]`
 * element, `/` or Ctrl/Cmd-K. The dialog and MiniSearch are separate chunks,
 * fetched on first use (or when the pointer or focus reaches the button).
 */
type SearchModule = typeof import('./search')

let loading: Promise<SearchModule> | undefined

function load(): Promise<SearchModule> {
  loading ??= import('./search').catch((error: unknown) => {
    loading = undefined
    throw error
  })
  return loading
}

function indexUrl(): string {
  return document.documentElement.dataset['searchIndex'] ?? 'search-index.json'
}

function isEditable(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false
  return target.isContentEditable || target.matches('input, textarea, select')
}

async function open(opener: Element | null): Promise<void> {
  try {
    const search = await load()
    search.openSearch(indexUrl(), opener)
  } catch (error) {
    console.error('tagpress: could not load search', error)
  }
}

export function initSearchOpen(): void {
  for (const button of document.querySelectorAll<HTMLElement>('[data-tp-search-open]')) {
    button.addEventListener('click', () => void open(button))
    const warm = (): void => {
      void load().then((search) => search.preloadSearch(indexUrl())).catch(() => undefined)
    }
    button.addEventListener('pointerenter', warm, {once: true})
    button.addEventListener('focus', warm, {once: true})
  }
  document.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.isComposing || event.altKey) return
    const slash = event.key === '/' && !event.ctrlKey && !event.metaKey && !isEditable(event.target)
    const modK = (event.key === 'k' || event.key === 'K') && (event.ctrlKey || event.metaKey) && !event.shiftKey
    if (!slash && !modK) return
    event.preventDefault()
    void open(document.activeElement)
  })
}
