import type {FileMessage} from '../compile/types.js'
import type {CompiledMeta} from './cache.js'

/**
 * Dead links and anchors across the site: a link to a page that does not
 * exist (or is a draft the build leaves out), or to a fragment that is not a
 * heading or question of its target, is an error at the link's position.
 */
export function checkLinks(metas: ReadonlyMap<string, CompiledMeta>, published: ReadonlySet<string>): Map<string, FileMessage[]> {
  const byId = new Map<string, CompiledMeta>()
  for (const meta of metas.values()) byId.set(meta.fileId, meta)
  const anchorSets = new Map<string, Set<string>>()
  const anchorsOf = (meta: CompiledMeta): Set<string> => {
    let set = anchorSets.get(meta.fileId)
    if (!set) anchorSets.set(meta.fileId, (set = new Set(meta.anchors)))
    return set
  }
  const problems = new Map<string, FileMessage[]>()
  for (const [source, meta] of metas) {
    if (!published.has(meta.fileId)) continue
    for (const link of meta.links) {
      const target = link.fileId === '' ? meta : byId.get(link.fileId)
      let reason: string | undefined
      if (!target) reason = 'no page `' + link.fileId + '.md` in the content folder'
      else if (!published.has(target.fileId)) reason = 'the page `' + link.fileId + '.md` is a draft, which the build leaves out'
      else if (link.fragment && !anchorsOf(target).has(link.fragment) && !link.fragment.startsWith('user-content-')) {
        reason = 'no heading or question with the anchor `#' + link.fragment + '` on ' + (target === meta ? 'this page' : '`' + target.fileId + '.md`')
      }
      if (!reason) continue
      const list = problems.get(source) ?? []
      list.push({line: link.line, column: link.column, rule: 'dead-link', code: 'TP013', reason: 'Unexpected dead link `' + link.url + '`: ' + reason, fatal: true})
      problems.set(source, list)
    }
  }
  return problems
}
