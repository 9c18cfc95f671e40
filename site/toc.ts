/**
 * "On this page": highlights the section being read (scroll-spy) and closes
 * the small-screen disclosure after a jump.
 */
/** Listeners of the last init, dropped when the page's content is swapped in place (dev server). */
let listeners: AbortController | undefined

export function initToc(): void {
  listeners?.abort()
  listeners = new AbortController()
  const {signal} = listeners
  for (const details of document.querySelectorAll<HTMLDetailsElement>('.tp-toc-mobile')) {
    details.addEventListener('click', (event) => {
      if (event.target instanceof Element && event.target.closest('a') !== null) details.open = false
    }, {signal})
  }

  const toc = document.querySelector<HTMLElement>('[data-tp-toc]')
  if (toc === null) return
  const targets: {link: HTMLAnchorElement; heading: HTMLElement}[] = []
  for (const link of toc.querySelectorAll<HTMLAnchorElement>('a[href^="#"]')) {
    let id: string
    try {
      id = decodeURIComponent(link.hash.slice(1))
    } catch {
      continue
    }
    const heading = document.getElementById(id)
    if (heading !== null) targets.push({link, heading})
  }
  if (targets.length === 0) return

  const header = document.querySelector<HTMLElement>('.tp-header')
  let active: HTMLAnchorElement | null = null
  let queued = false

  const update = (): void => {
    queued = false
    if (toc.offsetParent === null) return // hidden (small screens)
    // A heading counts as "being read" once it is in the top quarter of the view.
    const line = (header?.offsetHeight ?? 0) + Math.min(160, innerHeight / 4)
    let next: HTMLAnchorElement | null = null
    const scroller = document.scrollingElement ?? document.documentElement
    if (scroller.scrollTop > 0 && scroller.scrollTop + innerHeight >= scroller.scrollHeight - 4) {
      // At the very bottom, the last heading is the one being read.
      next = targets[targets.length - 1]?.link ?? null
    } else {
      for (const target of targets) {
        if (target.heading.getBoundingClientRect().top > line) break
        next = target.link
      }
    }
    if (next === active) return
    active?.classList.remove('tp-toc-active')
    active?.removeAttribute('aria-current')
    active = next
    if (active !== null) {
      active.classList.add('tp-toc-active')
      active.setAttribute('aria-current', 'location')
      keepVisible(toc.parentElement, active)
    }
  }

  const schedule = (): void => {
    if (queued) return
    queued = true
    requestAnimationFrame(update)
  }
  addEventListener('scroll', schedule, {passive: true, signal})
  addEventListener('resize', schedule, {passive: true, signal})
  update()
}

/** Scroll a long TOC so the active entry stays in view. */
function keepVisible(container: HTMLElement | null, link: HTMLElement): void {
  if (container === null || container.scrollHeight <= container.clientHeight) return
  const box = container.getBoundingClientRect()
  const item = link.getBoundingClientRect()
  if (item.top < box.top + 40 || item.bottom > box.bottom - 40) {
    container.scrollTop += item.top - box.top - box.height / 3
  }
}
