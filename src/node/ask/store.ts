import path from 'node:path'
import type {Config} from '../config/types.js'
import {EmbeddedStore} from './store-embedded.js'
import type {ConversationStore} from './types.js'

/** The conversation store the config names: MongoDB when a URI is set, else the embedded store in `.tagpress/conversations/`. */
export async function openStore(config: Config): Promise<ConversationStore> {
  if (config.mongo.uri) {
    const {MongoStore} = await import('./store-mongo.js')
    return new MongoStore(config.mongo.uri, config.mongo.db)
  }
  return new EmbeddedStore(embeddedDir(config))
}

export function embeddedDir(config: Config): string {
  return path.join(config.root, '.tagpress', 'conversations')
}
