import {createHash} from 'node:crypto'
import type {NavItem, PageLink} from './page-model.js'

/** What the navigation needs to know of a page. */
export interface NavPage {
  fileId: string
  title: string
  order?: number | undefined
}

interface Folder {
  /** `''` for the root, else `guide/tags`. */
  path: string
  title: string
  index?: NavPage
  pages: NavPage[]
  folders: Folder[]
  order?: number | undefined
  /** Hash of this folder's own listing (titles, URLs, order): what pages that show it depend on. */
  listingKey: string
}

/** Sites up to this many pages show the whole tree on every page; larger ones show the active branch. */
export const fullTreeLimit = 300

/**
 * The site's navigation, built once per build from the folder tree and the
 * pages' titles: sidebar items, prev/next order, breadcrumbs, and the keys
 * that say which pages must be re-rendered when a title changes.
 */
export class SiteNav {
  readonly root: Folder
  readonly order: NavPage[]
  readonly full: boolean
  private readonly positions = new Map<string, number>()
  private readonly folders = new Map<string, Folder>()
  private readonly fullKey: string
  private readonly keys = new Map<string, string>()

  constructor(pages: readonly NavPage[], private readonly base: string, fullLimit = fullTreeLimit) {
    this.root = buildTree(pages)
    const index = (folder: Folder): void => {
      this.folders.set(folder.path, folder)
      folder.folders.forEach(index)
    }
    index(this.root)
    this.order = []
    walk(this.root, this.order)
    this.order.forEach((page, index) => this.positions.set(page.fileId, index))
    this.full = pages.length <= fullLimit
    this.fullKey = hash(collectKeys(this.root).join('|'))
  }

  url(fileId: string): string {
    return this.base + fileId + '.html'
  }

  /** The sidebar for one page. */
  sidebar(fileId: string): NavItem[] {
    const path = folderPath(fileId)
    return this.items(this.root, fileId, path)
  }

  prev(fileId: string): PageLink | undefined {
    const at = this.positions.get(fileId)
    const page = at === undefined ? undefined : this.order[at - 1]
    return page && {title: page.title, url: this.url(page.fileId)}
  }

  next(fileId: string): PageLink | undefined {
    const at = this.positions.get(fileId)
    const page = at === undefined ? undefined : this.order[at + 1]
    return page && {title: page.title, url: this.url(page.fileId)}
  }

  /** Folders from the root down to the page (each with its index page's URL when it has one). */
  breadcrumbs(fileId: string): PageLink[] {
    return this.pathFolders(fileId).map((folder) => ({title: folder.title, url: folder.index ? this.url(folder.index.fileId) : ''}))
  }

  /** What a page's navigation depends on: changes exactly when its sidebar, breadcrumbs or prev/next would. */
  key(fileId: string): string {
    // Asked for every page of every build; a navigation is reused from build to build (the dev server's).
    let key = this.keys.get(fileId)
    if (key === undefined) this.keys.set(fileId, (key = this.computeKey(fileId)))
    return key
  }

  private computeKey(fileId: string): string {
    const prev = this.prev(fileId)
    const next = this.next(fileId)
    const parts = [fileId, prev?.title, prev?.url, next?.title, next?.url]
    if (this.full) parts.push(this.fullKey)
    else parts.push(this.root.listingKey, ...this.pathFolders(fileId).map((folder) => folder.listingKey))
    return hash(parts.join('\0'))
  }

  /** The folders holding a page, outermost first (not the root). */
  private pathFolders(fileId: string): Folder[] {
    const found: Folder[] = []
    let path = ''
    for (const part of folderPath(fileId)) {
      path = path ? path + '/' + part : part
      const folder = this.folders.get(path)
      if (folder) found.push(folder)
    }
    return found
  }

  private items(folder: Folder, active: string, path: string[], depth = 0): NavItem[] {
    const entries: Array<{order: number; rank: number; title: string; item: () => NavItem}> = []
    for (const page of folder.pages) {
      entries.push({
        order: page.order ?? Number.MAX_VALUE,
        rank: 0,
        title: page.title,
        item: () => ({title: page.title, url: this.url(page.fileId), ...(page.fileId === active ? {active: true} : {})})
      })
    }
    for (const child of folder.folders) {
      const onPath = path[depth] === child.path.split('/').pop()
      entries.push({
        order: child.order ?? Number.MAX_VALUE,
        rank: 1,
        title: child.title,
        item: () => {
          const item: NavItem = {title: child.title}
          if (child.index) item.url = this.url(child.index.fileId)
          if (child.index?.fileId === active) item.active = true
          if (onPath) item.open = true
          if (this.full || onPath) item.children = this.items(child, active, path, depth + 1)
          return item
        }
      })
    }
    entries.sort(compareEntries)
    return entries.map((entry) => entry.item())
  }
}

function compareEntries(a: {order: number; rank: number; title: string}, b: {order: number; rank: number; title: string}): number {
  return (a.order === b.order ? 0 : a.order < b.order ? -1 : 1) || a.rank - b.rank || a.title.localeCompare(b.title, "en")
}

/** `guide/tags/topics` → `['guide', 'tags']`; a folder's index page belongs to the folder's parent listing. */
function folderPath(fileId: string): string[] {
  const parts = fileId.split('/')
  parts.pop()
  return parts
}

function buildTree(pages: readonly NavPage[]): Folder {
  const root = newFolder('', '')
  // Folders by path: a page finds its folder at once, not by a search of its parent's list (10,000 pages).
  const folders = new Map<string, Folder>([['', root]])
  for (const page of pages) {
    const parts = page.fileId.split('/')
    const name = parts.pop() as string
    let folder = root
    for (const part of parts) {
      const childPath = folder.path ? folder.path + '/' + part : part
      let child = folders.get(childPath)
      if (!child) {
        child = newFolder(childPath, prettify(part))
        folder.folders.push(child)
        folders.set(childPath, child)
      }
      folder = child
    }
    if (name === 'index') {
      folder.index = page
      if (folder !== root) {
        folder.title = page.title
        folder.order = page.order
      }
    } else {
      folder.pages.push(page)
    }
  }
  computeKeys(root)
  return root
}

function newFolder(path: string, title: string): Folder {
  return {path, title, pages: [], folders: [], listingKey: ''}
}

function computeKeys(folder: Folder): void {
  for (const child of folder.folders) computeKeys(child)
  const parts = [
    folder.title,
    folder.index?.fileId ?? '',
    ...folder.pages.map((page) => page.fileId + '\0' + page.title + '\0' + (page.order ?? '')),
    ...folder.folders.map((child) => child.path + '\0' + child.title + '\0' + (child.order ?? '') + '\0' + (child.index?.fileId ?? ''))
  ]
  folder.listingKey = hash(parts.join('\n'))
}

function collectKeys(folder: Folder): string[] {
  return [folder.listingKey, ...folder.folders.flatMap(collectKeys)]
}

/** Reading order: a folder's index, its pages and subfolders as the sidebar lists them. */
function walk(folder: Folder, order: NavPage[]): void {
  if (folder.index) order.push(folder.index)
  const entries = [
    ...folder.pages.map((page) => ({order: page.order ?? Number.MAX_VALUE, rank: 0, title: page.title, page, folder: undefined})),
    ...folder.folders.map((child) => ({order: child.order ?? Number.MAX_VALUE, rank: 1, title: child.title, page: undefined, folder: child}))
  ].sort(compareEntries)
  for (const entry of entries) {
    if (entry.page) order.push(entry.page)
    else if (entry.folder) walk(entry.folder, order)
  }
}

/** `getting-started` → `Getting started`. */
function prettify(name: string): string {
  const words = name.replace(/[-_]+/g, ' ').trim()
  return words.charAt(0).toUpperCase() + words.slice(1)
}

function hash(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 32)
}
