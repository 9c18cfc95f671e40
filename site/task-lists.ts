/**
 * GFM task-list checkboxes come without a label; name each after its item's
 * own text so assistive technology can say what is (not) done.
 */
export function initTaskLists(): void {
  for (const box of document.querySelectorAll<HTMLInputElement>('.tp-doc .task-list-item input[type="checkbox"]')) {
    if (box.labels?.length || box.hasAttribute('aria-label') || box.hasAttribute('aria-labelledby')) continue
    const item = box.closest('li')
    if (item === null) continue
    let text = ''
    for (const node of item.childNodes) {
      if (node instanceof Element && (node.matches('ul, ol'))) break
      text += node.textContent ?? ''
    }
    text = text.replace(/\s+/g, ' ').trim()
    if (text !== '') box.setAttribute('aria-label', text.length > 120 ? text.slice(0, 119) + '…' : text)
  }
}
