import path from 'node:path'
import {compileFile} from '../../src/node/compile/compile-file.js'
import type {CompiledFile} from '../../src/node/compile/types.js'
import type {Settings} from '../../plugins/remark-matter/index.js'

/** Compile Markdown as `source` in a content folder (for asset lookups) and parse its records. */
export async function compile(value: string, source = 'guide/intro.md', defaults: Settings = {}, contentDir = path.join(import.meta.dirname, '..', 'fixtures', 'content')) {
  const compiled: CompiledFile = await compileFile({source, value, defaults}, {contentDir, base: '/'})
  return {
    compiled,
    blocks: parse(compiled.records.blocks),
    chapters: parse(compiled.records.chapters),
    qa: parse(compiled.records.qa),
    errors: compiled.messages.filter((message) => message.fatal).map((message) => `${message.line}:${message.column} ${message.code} ${message.reason}`)
  }
}

function parse(jsonl: string): Array<Record<string, unknown>> {
  return jsonl === '' ? [] : jsonl.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
}
