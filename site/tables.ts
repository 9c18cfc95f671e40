/**
 * Wide tables scroll sideways inside the article; a scrolling table must be
 * reachable by keyboard, so it gets a tab stop only while it overflows.
 */
export function initTables(): void {
  const tables = document.querySelectorAll<HTMLTableElement>('.tp-doc table')
  if (tables.length === 0) return
  const check = (): void => {
    for (const table of tables) {
      if (table.scrollWidth > table.clientWidth + 1) {
        if (!table.hasAttribute('tabindex')) table.tabIndex = 0
      } else if (table.getAttribute('tabindex') === '0') {
        table.removeAttribute('tabindex')
      }
    }
  }
  check()
  let timer: number | undefined
  addEventListener('resize', () => {
    clearTimeout(timer)
    timer = window.setTimeout(check, 150)
  })
}
