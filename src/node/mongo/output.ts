import path from 'node:path'
import {hashConcat, writeConcat, type ConcatState} from '../outputs/concat.js'
import type {BuildOutput, OutputContext, OutputResult} from '../outputs/types.js'
import {DocumentCache, projectOf} from './cache.js'
import type {DocumentNode} from './schema.js'

/** Relative to the out folder. */
export const nodesFile = 'mongo/nodes.jsonl'

interface MongoOutputState {
  version: 1
  concat: ConcatState
}

/**
 * `out/mongo/nodes.jsonl`: every document tree (file → sections → Q/As) as
 * the `nodes` collection holds it, one node a line in MongoDB Extended JSON
 * (relaxed), ready for `mongoimport --collection nodes`. Written by every
 * build, with or without a server.
 *
 * Deterministic: nodes in source-file order, each file's in display order,
 * `order` counting from 0 in each tree, no timestamps (the database adds
 * `created_at`/`updated_at`). The nodes hold only strings, whole numbers,
 * arrays and null, for which relaxed Extended JSON is exactly JSON, so the
 * lines are `JSON.stringify` output and `EJSON.parse` (and mongoimport) read
 * back the same documents: integers as int32, as the driver writes them.
 *
 * A file whose compile did not change keeps its lines (copied from the
 * previous file), and a build where nothing changed leaves the file alone;
 * it is written aside and renamed into place.
 */
export const mongoOutput: BuildOutput = {
  name: 'mongo',
  write: async (context: OutputContext): Promise<OutputResult> => {
    const cache = DocumentCache.for(context.stateDir, projectOf(context.config))
    const previous = context.previous as MongoOutputState | undefined
    const state = writeConcat(
      [{name: 'nodes', file: path.join(context.config.out, nodesFile), previous: previous?.version === 1 ? previous.concat : undefined}],
      context.files.map((file) => ({
        source: file.source,
        key: cache.key(file),
        include: () => true,
        parts: () => ({nodes: nodeLines(cache.documents(file))})
      })),
      () => context.stopping?.() === true
    )?.nodes
    // A newer edit waits (the dev server): the file stays the previous build's, and so does the cache.
    if (!state) return {files: [], stopped: true}
    cache.save(context.files)
    const result: MongoOutputState = {version: 1, concat: state}
    return {files: [{path: nodesFile, records: state.records, bytes: state.bytes, sha256: hashConcat(state, path.join(context.config.out, nodesFile))}], state: result}
  }
}

/** One node a line: relaxed Extended JSON (for these documents, plain JSON). */
export function nodeLines(docs: readonly DocumentNode[]): string {
  let text = ''
  for (const doc of docs) text += JSON.stringify(doc) + '\n'
  return text
}
