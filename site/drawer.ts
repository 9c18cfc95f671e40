/**
 * Below 960px the sidebar is a drawer: the menu button opens it, Escape, the
 * close button, the scrim or a link close it, focus moves in and comes back,
 * and the rest of the page is inert meanwhile.
 */
const WIDE = '(min-width: 960px)'

export function initDrawer(): void {
  const sidebar = document.querySelector<HTMLElement>('[data-tp-sidebar]')
  const opener = document.querySelector<HTMLButtonElement>('[data-tp-menu]')
  if (sidebar === null || opener === null) return
  const closer = sidebar.querySelector<HTMLButtonElement>('[data-tp-menu-close]')
  const root = document.documentElement
  const scrim = document.createElement('div')
  scrim.className = 'tp-scrim'
  document.body.append(scrim)

  const outside = (): Element[] =>
    Array.from(document.querySelectorAll('.tp-skip, .tp-header, .tp-main, .tp-aside, .tp-footer'))

  let isOpen = false

  const open = (): void => {
    if (isOpen) return
    isOpen = true
    root.classList.add('tp-drawer-open')
    opener.setAttribute('aria-expanded', 'true')
    sidebar.setAttribute('role', 'dialog')
    sidebar.setAttribute('aria-modal', 'true')
    sidebar.setAttribute('aria-label', 'Navigation')
    for (const element of outside()) element.setAttribute('inert', '')
    const current = sidebar.querySelector<HTMLElement>('[aria-current="page"]')
    if (current !== null) current.scrollIntoView({block: 'center'})
    ;(closer ?? sidebar.querySelector<HTMLElement>('a, summary'))?.focus({preventScroll: true})
  }

  const close = (restoreFocus: boolean): void => {
    if (!isOpen) return
    isOpen = false
    root.classList.remove('tp-drawer-open')
    opener.setAttribute('aria-expanded', 'false')
    sidebar.removeAttribute('role')
    sidebar.removeAttribute('aria-modal')
    sidebar.removeAttribute('aria-label')
    for (const element of outside()) element.removeAttribute('inert')
    if (restoreFocus) opener.focus()
  }

  opener.addEventListener('click', open)
  closer?.addEventListener('click', () => close(true))
  scrim.addEventListener('click', () => close(true))
  sidebar.addEventListener('click', (event) => {
    if (isOpen && event.target instanceof Element && event.target.closest('a') !== null) close(false)
  })
  document.addEventListener('keydown', (event) => {
    if (isOpen && event.key === 'Escape') {
      event.preventDefault()
      close(true)
    }
  })
  matchMedia(WIDE).addEventListener('change', (event) => {
    if (event.matches) close(false)
  })
}

/** On wide screens, bring the current page's link into view in the sidebar. */
export function revealCurrentNavItem(): void {
  const sidebar = document.querySelector<HTMLElement>('[data-tp-sidebar]')
  const current = sidebar?.querySelector<HTMLElement>('[aria-current="page"]')
  if (sidebar == null || current == null || !matchMedia(WIDE).matches) return
  const top = current.getBoundingClientRect().top - sidebar.getBoundingClientRect().top + sidebar.scrollTop
  if (top > sidebar.clientHeight - 80) sidebar.scrollTop = top - sidebar.clientHeight / 3
}
