/**
 * Light/dark toggle. The inline script in <head> (src/node/site/layout.ts)
 * already applied the stored choice or the system preference before first
 * paint; this keeps the button, the system preference and other tabs in sync.
 */
const STORAGE_KEY = 'tagpress-theme'

function stored(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY)
  } catch {
    return null
  }
}

function store(value: 'light' | 'dark'): void {
  try {
    localStorage.setItem(STORAGE_KEY, value)
  } catch {
    // Private mode or storage disabled: the choice lasts for this page only.
  }
}

export function initTheme(): void {
  const root = document.documentElement
  const buttons = document.querySelectorAll<HTMLButtonElement>('[data-tp-theme]')
  const media = matchMedia('(prefers-color-scheme: dark)')

  const apply = (dark: boolean): void => {
    root.classList.toggle('dark', dark)
    for (const button of buttons) button.setAttribute('aria-pressed', String(dark))
  }

  apply(root.classList.contains('dark'))
  for (const button of buttons) {
    button.addEventListener('click', () => {
      const dark = !root.classList.contains('dark')
      apply(dark)
      store(dark ? 'dark' : 'light')
    })
  }
  media.addEventListener('change', (event) => {
    if (stored() === null) apply(event.matches)
  })
  addEventListener('storage', (event) => {
    if (event.key === STORAGE_KEY) apply(event.newValue === null ? media.matches : event.newValue === 'dark')
  })
}
