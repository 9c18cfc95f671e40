/** Small HTML helpers for card fields: escaping, Anki's stripping rules, and rewriting site URLs for a card. */

const escapes: Record<string, string> = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}

/** Text as HTML (for fields made from plain text: Instruction, AnswerIntro, ParentRef). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (char) => escapes[char] as string)
}

const named: Record<string, string> = {amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', '#39': "'"}

/** Decode character references (numeric ones, and the few named ones HTML serializers write). */
export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z][a-z0-9]*);/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10)
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole
    }
    return named[ref.toLowerCase()] ?? whole
  })
}

const mediaTag = /<\b(?:img|audio|video|object|source)\b(?:[^>]|"[^"]+?"|'[^']+?')+?\b(?:src|data)\b=(?:"([^"]+?)"[^>]*>|'([^']+?)'[^>]*>|([^ ]+?)[^>]*>)/gis
const wrapped = /(<!--.*?-->)|(<style.*?>.*?<\/style>)|(<script.*?>.*?<\/script>)|(<.*?>)/gis

/**
 * Anki's `strip_html_preserving_media_filenames` (rslib `text.rs`): media tags
 * become their file names, other tags vanish, entities are decoded. Used for
 * the sort field and the first-field checksum, which Anki recomputes on import
 * anyway; ours match its values so the package is correct on its own.
 */
export function stripHtml(html: string): string {
  const text = html.replace(mediaTag, (_whole, a?: string, b?: string, c?: string) => ' ' + (a ?? b ?? c ?? '') + ' ').replace(wrapped, '')
  return decodeEntities(text).replace(/\u00a0/g, ' ')
}

const blockBreaks = /<\/?(?:br|address|article|aside|blockquote|dd|div|dl|dt|figcaption|figure|footer|h[1-6]|header|hr|li|main|nav|ol|p|pre|section|table|tr|ul)\b[^>]*>/gi

/** HTML as readable plain text (for `tagpress anki import --text`): block tags become line breaks, media their file names. */
export function htmlToText(html: string): string {
  const marked = html.replace(/<img\b[^>]*?\balt="([^"]*)"[^>]*>/gi, (_whole, alt: string) => (alt ? '[' + alt + ']' : '')).replace(blockBreaks, '\n')
  return stripHtml(marked)
    .split('\n')
    .map((line) => line.replace(/[ \t]+$/, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
}

/** Control characters Anki strips from fields (all but tab and newline), and the field separator. */
export function cleanField(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')
}

export interface RewriteOptions {
  /** The site's base path (starts and ends with `/`). */
  base: string
  /** The site's public URL (ends with `/`), to make site links absolute; without it they become plain text. */
  url?: string | undefined
  /** The page's path in the site (`guide/intro.html`), for same-page `#fragment` links. */
  page: string
  /** Site path of an image (`assets/x.1a2b3c4d.png`) → its media file name in the deck, or undefined when not shipped. */
  media: (sitePath: string) => string | undefined
}

/**
 * Rewrite a Q/A's HTML from the site for a card: images of the site point at
 * the deck's media files (Anki wants bare file names), links into the site are
 * made absolute with `site.url`, or kept as text when the site has no public URL
 * (a relative link means nothing inside Anki).
 */
export function rewriteCardHtml(html: string, options: RewriteOptions): string {
  const {base, url, page, media} = options
  let out = html.replace(/<img\b[^>]*>/gi, (tag) =>
    tag.replace(/(\ssrc=)("([^"]*)"|'([^']*)')/i, (whole, prefix: string, _quoted, double?: string, single?: string) => {
      const src = decodeEntities(double ?? single ?? '')
      if (!src.startsWith(base + 'assets/')) return whole
      const name = media(src.slice(base.length))
      return name === undefined ? whole : prefix + '"' + escapeHtml(name) + '"'
    })
  )
  if (!out.includes('<a')) return out
  // Anchors never nest, so each opening tag is closed by the next `</a>`.
  out = out.replace(/<a\b([^>]*)>([\s\S]*?)<\/a>/gi, (whole, attributes: string, inner: string) => {
    const match = /\shref=(?:"([^"]*)"|'([^']*)')/i.exec(attributes)
    if (!match) return whole
    const href = decodeEntities(match[1] ?? match[2] ?? '')
    let target: string | undefined
    if (href.startsWith('#')) target = url ? url + page + href : undefined
    else if (href.startsWith(base) && !href.startsWith('//')) target = url ? url + href.slice(base.length) : undefined
    else if (/^[a-z][a-z0-9+.-]*:/i.test(href)) return whole
    else target = undefined
    if (target === undefined) return '<span class="tp-link">' + inner + '</span>'
    return '<a' + attributes.replace(match[0], ' href="' + escapeHtml(target) + '"') + '>' + inner + '</a>'
  })
  return out
}
