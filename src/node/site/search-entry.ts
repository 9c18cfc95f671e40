/**
 * One document of the client-side search index, `search-index.jsonl`: one
 * entry per line (each page's lines are a segment the build can reuse), for
 * every page, every section and every Q/A pair, so search finds a question
 * as readily as a title.
 */
export interface SearchEntry {
  /** Unique: `<file_id>` for pages, `<file_id>#<anchor>` for sections and Q/A. */
  id: string
  kind: 'page' | 'section' | 'qa'
  /** Title, section title or question. */
  title: string
  /** The page's title (context line in results). */
  page: string
  /** Chapter path, joined with ` › `. */
  path: string
  /** URL with base and fragment. */
  url: string
  /** Plain text to search in (an answer, a section's text), trimmed. */
  text: string
}
