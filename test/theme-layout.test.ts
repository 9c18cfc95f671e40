import {describe, expect, it} from 'vitest'
import {escapeHtml, renderNotFound, renderPage} from '../src/node/site/layout.js'
import type {NavItem, PageModel, TocItem} from '../src/node/site/page-model.js'

function toc(title: string, anchor: string, level: number, number: string, children: TocItem[] = []): TocItem {
  return {title, anchor, level, number, children}
}

function model(overrides: Partial<PageModel> = {}): PageModel {
  return {
    kind: 'page',
    lang: 'en',
    site: {title: 'Docs', base: '/docs/'},
    title: 'Intro',
    description: 'What this is about.',
    path: 'guide/intro.html',
    bodyHtml: '<h1 id="intro">Intro</h1><p>Body <em>text</em>.</p>',
    toc: [],
    nav: [],
    breadcrumbs: [],
    assets: {css: ['/docs/theme/assets/main-abc.css'], js: ['/docs/theme/assets/main-def.js']},
    searchIndexUrl: '/docs/search-index.json',
    qaCount: 0,
    ...overrides,
  }
}

/** The text of the page with tags, comments, scripts and styles removed. */
function visibleText(html: string): string {
  return html.replace(/<script[\s\S]*?<\/script>/g, '').replace(/<[^>]+>/g, ' ')
}

const nav: NavItem[] = [
  {title: 'Getting started', url: '/docs/start.html'},
  {
    title: 'Guide',
    url: '/docs/guide/index.html',
    open: true,
    children: [
      {title: 'Intro', url: '/docs/guide/intro.html', active: true},
      {title: 'Tags', children: [{title: 'Q&A', url: '/docs/guide/tags/qa.html'}]},
    ],
  },
  {title: 'Outputs', children: [{title: 'Anki', url: '/docs/outputs/anki.html'}]},
]

describe('renderPage', () => {
  it('writes a complete HTML5 document with the head the spec asks for', () => {
    const html = renderPage(model({canonical: 'https://example.com/docs/guide/intro.html'}))
    expect(html.startsWith('<!doctype html>\n<html lang="en" data-search-index="/docs/search-index.json">')).toBe(true)
    expect(html).toContain('<meta charset="utf-8">')
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">')
    expect(html).toContain('<title>Intro | Docs</title>')
    expect(html).toContain('<meta name="description" content="What this is about.">')
    expect(html).toContain('<meta name="generator" content="tagpress">')
    expect(html).toContain('<meta property="og:title" content="Intro">')
    expect(html).toContain('<meta property="og:description" content="What this is about.">')
    expect(html).toContain('<meta property="og:type" content="article">')
    expect(html).toContain('<meta property="og:site_name" content="Docs">')
    expect(html).toContain('<meta property="og:url" content="https://example.com/docs/guide/intro.html">')
    expect(html).toContain('<link rel="canonical" href="https://example.com/docs/guide/intro.html">')
    expect(html).toContain('<link rel="stylesheet" href="/docs/theme/assets/main-abc.css">')
    expect(html).toContain('<script type="module" src="/docs/theme/assets/main-def.js"></script>')
    expect(html.trimEnd().endsWith('</html>')).toBe(true)
  })

  it('sets the dark class before first paint, before any stylesheet', () => {
    const html = renderPage(model())
    const script = html.indexOf('<script>')
    expect(script).toBeGreaterThan(-1)
    expect(script).toBeLessThan(html.indexOf('<link rel="stylesheet"'))
    expect(html).toContain("classList.add('dark')")
    expect(html).toContain('prefers-color-scheme: dark')
  })

  it('leaves out og:url and canonical without a canonical URL', () => {
    const html = renderPage(model())
    expect(html).not.toContain('og:url')
    expect(html).not.toContain('rel="canonical"')
  })

  it('titles the home page with the site title alone', () => {
    const html = renderPage(model({path: 'index.html', title: 'Welcome'}))
    expect(html).toContain('<title>Docs</title>')
  })

  it('escapes every text value and attribute from the model', () => {
    const evil = '<script>alert("x")</script> & \'quotes\''
    const html = renderPage(
      model({
        title: evil,
        description: evil,
        site: {title: evil, base: '/docs/'},
        canonical: 'https://example.com/?a=1&b="2"',
        nav: [{title: evil, url: '/docs/a.html?x="y"&z=<w>', active: true}],
        toc: [toc(evil, 'a"b<c>', 2, '1')],
        breadcrumbs: [{title: evil, url: '/docs/guide/index.html'}],
        prev: {title: evil, url: '/docs/p.html'},
        next: {title: evil, url: '/docs/n.html'},
        lastUpdated: {iso: '2025-01-01"', text: evil},
        editUrl: 'https://example.com/edit?f=a&b="c"',
        bodyHtml: '<p>trusted <b>body</b></p>',
      }),
    )
    // The only <script> elements are the theme script and the module entry.
    expect(html.match(/<script/g)?.length).toBe(2)
    expect(html).not.toContain('alert("x")')
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;')
    expect(html).toContain('href="/docs/a.html?x=&quot;y&quot;&amp;z=&lt;w&gt;"')
    expect(html).toContain('href="#a&quot;b&lt;c&gt;"')
    expect(html).toContain('content="https://example.com/?a=1&amp;b=&quot;2&quot;"')
    expect(html).toContain('href="https://example.com/edit?f=a&amp;b=&quot;c&quot;"')
    expect(html).toContain('datetime="2025-01-01&quot;"')
    // bodyHtml goes in as is.
    expect(html).toContain('<p>trusted <b>body</b></p>')
  })

  it('neutralises script URLs', () => {
    const html = renderPage(model({editUrl: ' JavaScript:alert(1)', nav: [{title: 'x', url: 'javascript:alert(2)'}]}))
    expect(html).not.toMatch(/javascript:/i)
  })

  it('marks the active nav item and, in a big tree, opens only the folders on its path', () => {
    const filler: NavItem[] = []
    for (let i = 0; i < 40; i++) filler.push({title: `Page ${i}`, url: `/docs/p${i}.html`})
    const html = renderPage(model({nav: [...nav, ...filler]}))
    expect(html.match(/aria-current="page"/g)?.length).toBe(1)
    expect(html).toContain('<a href="/docs/guide/intro.html" aria-current="page">Intro</a>')
    // Guide has an index page: a link plus an open disclosure; no link inside <summary>.
    expect(html).toContain(
      '<li class="tp-nav-folder tp-nav-folder-link"><a href="/docs/guide/index.html">Guide</a><details open><summary><span class="tp-sr-only">Guide</span></summary>',
    )
    expect(html).not.toMatch(/<summary>(?:(?!<\/summary>)[^])*<a /)
    // Folders off the path stay closed.
    expect(html).toContain('<li class="tp-nav-folder"><details><summary>Tags</summary>')
    expect(html).toContain('<li class="tp-nav-folder"><details><summary>Outputs</summary>')
    expect(html).toContain('<nav class="tp-nav" aria-label="Site">')
  })

  it('expands every folder of a small tree', () => {
    const html = renderPage(model({nav}))
    expect(html).toContain('<li class="tp-nav-folder"><details open><summary>Tags</summary>')
    expect(html).toContain('<li class="tp-nav-folder"><details open><summary>Outputs</summary>')
    expect(html).not.toMatch(/<details>/)
  })

  it('marks a folder active when its own page is being rendered', () => {
    const html = renderPage(model({nav: [{title: 'Guide', url: '/docs/guide/index.html', active: true, children: [{title: 'A', url: '/docs/guide/a.html'}]}]}))
    expect(html).toContain('<a href="/docs/guide/index.html" aria-current="page">Guide</a><details open>')
  })

  it('nests the table of contents and lifts the children of a level-1 heading', () => {
    const html = renderPage(
      model({
        toc: [
          toc('Intro', 'intro', 1, '1', [
            toc('Install', 'install', 2, '1.1', [toc('From npm', 'npm', 3, '1.1.1')]),
            toc('Use', 'use', 2, '1.2'),
          ]),
        ],
      }),
    )
    const aside = html.slice(html.indexOf('<aside'), html.indexOf('</aside>'))
    expect(aside).toContain('<nav class="tp-toc" aria-labelledby="tp-toc-title" data-tp-toc>')
    expect(aside).toContain('<p class="tp-toc-title" id="tp-toc-title">On this page</p>')
    expect(aside).toContain(
      '<ul><li><a href="#install">Install</a><ul><li><a href="#npm">From npm</a></li></ul></li><li><a href="#use">Use</a></li></ul>',
    )
    expect(aside).not.toContain('href="#intro"')
    // The small-screen disclosure carries the same list.
    expect(html).toContain('<details class="tp-toc-mobile"><summary>On this page</summary><nav class="tp-toc" aria-label="On this page"><ul><li><a href="#install">')
    expect(html).toContain('<div class="tp-layout tp-has-toc">')
  })

  it('renders no TOC when there are no headings below the title', () => {
    const html = renderPage(model({toc: [toc('Intro', 'intro', 1, '1')]}))
    expect(html).not.toContain('<aside')
    expect(html).not.toContain('tp-toc-mobile')
    expect(html).toContain('<div class="tp-layout">')
  })

  it('renders prev/next, last updated and the edit link under the article', () => {
    const html = renderPage(
      model({
        prev: {title: 'Start', url: '/docs/start.html'},
        next: {title: 'Tags', url: '/docs/guide/tags.html'},
        lastUpdated: {iso: '2025-11-20T10:00:00Z', text: 'November 20, 2025'},
        editUrl: 'https://github.com/o/r/edit/main/content/guide/intro.md',
      }),
    )
    const footer = html.slice(html.indexOf('<footer class="tp-doc-footer">'), html.indexOf('</main>'))
    expect(footer).toContain('<a class="tp-edit-link" href="https://github.com/o/r/edit/main/content/guide/intro.md">')
    expect(footer).toContain('Edit this page</a>')
    expect(footer).toContain('Last updated <time datetime="2025-11-20T10:00:00Z">November 20, 2025</time>')
    expect(footer).toContain('<nav class="tp-pager" aria-label="Previous and next page">')
    expect(footer).toContain('<a class="tp-pager-link tp-pager-prev" href="/docs/start.html" rel="prev"><span class="tp-pager-label">Previous</span><span class="tp-pager-title">Start</span></a>')
    expect(footer).toContain('<a class="tp-pager-link tp-pager-next" href="/docs/guide/tags.html" rel="next"><span class="tp-pager-label">Next</span><span class="tp-pager-title">Tags</span></a>')
    expect(html.indexOf('<article')).toBeLessThan(html.indexOf('tp-doc-footer'))
  })

  it('renders only the parts of the doc footer it has', () => {
    const onlyNext = renderPage(model({next: {title: 'Tags', url: '/docs/tags.html'}}))
    expect(onlyNext).toContain('tp-pager-next')
    expect(onlyNext).not.toContain('tp-pager-prev')
    expect(onlyNext).not.toContain('tp-doc-meta')
    expect(renderPage(model())).not.toContain('tp-doc-footer')
  })

  it('renders breadcrumbs above the article, folders without a page as text', () => {
    const html = renderPage(model({breadcrumbs: [{title: 'Guide', url: '/docs/guide/index.html'}, {title: 'Tags', url: ''}]}))
    expect(html).toContain(
      '<nav class="tp-breadcrumbs" aria-label="Breadcrumb"><ol><li><a href="/docs/guide/index.html">Guide</a></li><li><span>Tags</span></li></ol></nav>',
    )
    expect(html.indexOf('tp-breadcrumbs')).toBeLessThan(html.indexOf('<article'))
    expect(renderPage(model())).not.toContain('tp-breadcrumbs')
  })

  it('has the landmarks, a skip link first and the theme controls', () => {
    const html = renderPage(model({nav, toc: [toc('A', 'a', 2, '1')]}))
    const body = html.slice(html.indexOf('<body'))
    expect(body.indexOf('<a class="tp-skip" href="#tp-main">Skip to content</a>')).toBeLessThan(body.indexOf('<button'))
    expect(html).toContain('<header class="tp-header">')
    expect(html).toContain('<main class="tp-main" id="tp-main" tabindex="-1">')
    expect(html).toContain('<aside class="tp-aside">')
    expect(html).toContain('<footer class="tp-footer">')
    expect(html).toContain('data-tp-search-open')
    expect(html).toContain('aria-keyshortcuts="/ Control+K Meta+K"')
    expect(html).toContain('<kbd class="tp-kbd" aria-hidden="true">/</kbd>')
    expect(html).toContain('data-tp-theme')
    expect(html).toContain('aria-controls="tp-sidebar" aria-expanded="false"')
    expect(html).toContain('<a class="tp-brand" href="/docs/">Docs</a>')
    expect(html).toContain('<article class="tp-doc"><h1 id="intro">Intro</h1><p>Body <em>text</em>.</p></article>')
  })

  it('never leaks undefined, null or NaN into the page', () => {
    const minimal = renderPage(model({description: '', nav: [{title: 'Folder'}, {title: 'Empty', children: []}]}))
    const full = renderPage(
      model({
        nav,
        toc: [toc('A', 'a', 2, '1', [toc('B', 'b', 3, '1.1')])],
        breadcrumbs: [{title: 'Guide', url: '/docs/guide/index.html'}],
        prev: {title: 'P', url: '/docs/p.html'},
        next: {title: 'N', url: '/docs/n.html'},
        lastUpdated: {iso: '2025-01-01', text: 'Jan 1'},
        editUrl: 'https://e.example/x',
        canonical: 'https://example.com/x',
        site: {title: 'Docs', base: '/docs/', url: 'https://example.com/docs/'},
      }),
    )
    for (const html of [minimal, full, renderNotFound(model({kind: '404', bodyHtml: '', title: ''}))]) {
      expect(html).not.toMatch(/undefined|null|NaN|\[object Object\]/)
      expect(visibleText(html)).not.toMatch(/undefined|null|NaN/)
    }
    expect(minimal).not.toContain('name="description"')
  })
})

describe('renderNotFound', () => {
  it('renders a friendly page with a link home and the search', () => {
    const html = renderNotFound(model({kind: '404', title: 'Page not found', bodyHtml: '', path: '404.html', nav}))
    expect(html).toContain('<title>Page not found | Docs</title>')
    expect(html).toContain('<meta name="robots" content="noindex">')
    expect(html).toContain('<h1>Page not found</h1>')
    expect(html).toContain('<a class="tp-button tp-button-primary" href="/docs/">Go to the home page</a>')
    expect(html).toContain('<button type="button" class="tp-button" data-tp-search-open>')
    expect(html).toContain('<body class="tp-kind-404">')
    expect(html).not.toContain('<aside')
    expect(html).not.toContain('tp-doc-footer')
    expect(html).toContain('<nav class="tp-nav" aria-label="Site">')
  })

  it('uses the given body when there is one', () => {
    const html = renderNotFound(model({kind: '404', title: 'Lost?', bodyHtml: '<h1>Lost?</h1><p>Custom.</p>'}))
    expect(html).toContain('<h1>Lost?</h1><p>Custom.</p>')
    expect(html).not.toContain('<h1>Page not found</h1>')
    expect(html).toContain('Go to the home page')
  })
})

describe('escapeHtml', () => {
  it('escapes the five HTML-special characters and returns other strings as is', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;')
    const plain = 'plain text'
    expect(escapeHtml(plain)).toBe(plain)
  })
})
