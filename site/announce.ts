/** Polite announcements for screen readers ("Copied", and so on). */
let region: HTMLElement | undefined

export function announce(message: string): void {
  if (region === undefined) {
    region = document.createElement('div')
    region.className = 'tp-sr-only'
    region.setAttribute('role', 'status')
    document.body.append(region)
  }
  const target = region
  target.textContent = ''
  setTimeout(() => {
    target.textContent = message
  }, 60)
}
