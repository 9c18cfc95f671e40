import initSqlJs from 'sql.js'
import type {SqlJsStatic} from 'sql.js'

let loading: Promise<SqlJsStatic> | undefined

/** sql.js (SQLite compiled to WebAssembly: no native build), loaded once per process. */
export function sqlite(): Promise<SqlJsStatic> {
  return (loading ??= initSqlJs())
}
