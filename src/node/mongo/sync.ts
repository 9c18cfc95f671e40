import type {Config} from '../config/types.js'
import type {PublishedFile} from '../outputs/types.js'
import type {Progress} from '../build/progress.js'

/** What a sync did, for the build report. */
export interface SyncReport {
  inserted: number
  updated: number
  deleted: number
  unchanged: number
}

/** Placeholder until the MongoDB sync lands. */
export async function syncTrees(_config: Config, _files: readonly PublishedFile[], _options: {deleteVanished: boolean; progress: Progress}): Promise<SyncReport> {
  return {inserted: 0, updated: 0, deleted: 0, unchanged: 0}
}
