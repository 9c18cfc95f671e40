/** DOM helpers for the panel: elements from props and children, and the icons. */

type Child = Node | string | null | undefined | false

/** An element; `props` become attributes (`class` included), `false`/`undefined` ones are left out. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Record<string, string | number | boolean | undefined> | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  if (props) {
    for (const [name, value] of Object.entries(props)) {
      if (value === undefined || value === false) continue
      element.setAttribute(name, value === true ? '' : String(value))
    }
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) element.append(child)
  return element
}

const PATHS: Record<string, string> = {
  ask: '<path d="M5 18.5V6.5A2.5 2.5 0 0 1 7.5 4h9A2.5 2.5 0 0 1 19 6.5v7a2.5 2.5 0 0 1-2.5 2.5H9.5L5 19.5z"/><path d="M10 8.6a2.1 2.1 0 1 1 2.6 2c-.4.1-.6.5-.6.9v.2"/><path d="M12 14h.01"/>',
  close: '<path d="M6 6l12 12M18 6L6 18"/>',
  list: '<path d="M9 6h11M9 12h11M9 18h11"/><path d="M4.5 6h.01M4.5 12h.01M4.5 18h.01"/>',
  plus: '<path d="M12 5v14M5 12h14"/>',
  send: '<path d="M12 19V5M6 11l6-6 6 6"/>',
  stop: '<rect x="7" y="7" width="10" height="10" rx="1.5"/>',
  copy: '<rect x="9" y="9" width="11" height="11" rx="2"/><path d="M5 15V6a2 2 0 0 1 2-2h8"/>',
  reply: '<path d="M10 8L5 12l5 4"/><path d="M5 12h9a5 5 0 0 1 5 5v1"/>',
  recall: '<path d="M4 12a8 8 0 1 0 2.6-5.9"/><path d="M4 4v4h4"/>',
  edit: '<path d="M4 20h4L19 9l-4-4L4 16v4zM13.5 6.5l4 4"/>',
  trash: '<path d="M5 7h14M10 7V5h4v2M7 7l1 12h8l1-12"/>',
  grow: '<path d="M7 14l5-5 5 5"/>',
  shrink: '<path d="M7 10l5 5 5-5"/>',
  alert: '<path d="M12 4l9 16H3z"/><path d="M12 10v4M12 17h.01"/>',
}

/** An icon of the panel (decorative: its button carries the label). */
export function icon(name: keyof typeof PATHS): SVGSVGElement {
  const template = document.createElement('template')
  template.innerHTML = '<svg class="tp-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">' + (PATHS[name] ?? '') + '</svg>'
  return template.content.firstChild as SVGSVGElement
}

/** A button with an icon and a visible or screen-reader-only label. */
export function button(name: string, label: string, act: string, options: {hideLabel?: boolean; cls?: string} = {}): HTMLButtonElement {
  return h(
    'button',
    {type: 'button', class: options.cls ?? 'tp-ask-action', 'data-act': act, ...(options.hideLabel ? {'aria-label': label, title: label} : {})},
    icon(name),
    options.hideLabel ? null : h('span', null, label),
  )
}
