import {UserError} from '../errors.js'

/**
 * A connection string safe to print: the password (and any
 * `authMechanismProperties` value, which may hold a token) replaced by `****`.
 * `mongodb://app:s3cret@db:27017/?authSource=admin` → `mongodb://app:****@db:27017/?authSource=admin`.
 */
export function maskUri(uri: string): string {
  let masked = uri.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@/i, (_, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':')
    return scheme + (colon === -1 ? userinfo : userinfo.slice(0, colon) + ':****') + '@'
  })
  masked = masked.replace(/([?&]authMechanismProperties=)[^&#]*/gi, '$1****')
  return masked
}

/** The secrets of a connection string (raw and decoded), to scrub from messages that might quote them. */
export function secretsOf(uri: string): string[] {
  const secrets: string[] = []
  const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^@/?#]*)@/i.exec(uri)?.[1]
  const colon = userinfo?.indexOf(':') ?? -1
  if (userinfo && colon !== -1) {
    const raw = userinfo.slice(colon + 1)
    if (raw) {
      secrets.push(raw)
      try {
        const decoded = decodeURIComponent(raw)
        if (decoded !== raw) secrets.push(decoded)
      } catch {
        // Not valid percent-encoding: the raw form is enough.
      }
    }
  }
  const properties = /[?&]authMechanismProperties=([^&#]*)/i.exec(uri)?.[1]
  if (properties) secrets.push(properties)
  return secrets.filter((secret) => secret.length >= 3)
}

/** A message with every secret of the URI replaced by `****`. */
export function scrub(message: string, uri: string): string {
  let out = message
  for (const secret of secretsOf(uri)) out = out.split(secret).join('****')
  return out
}

type Phase = 'connect' | 'sync' | 'read'

/**
 * Turn a driver error into one clear sentence (a `UserError`) naming the
 * server with its password masked; errors that are not about the server or
 * the connection come back unchanged (they are bugs, not user problems).
 */
export function asUserError(error: unknown, uri: string, db: string, phase: Phase): Error {
  if (error instanceof UserError) return error
  const where = maskUri(uri) + ' (database `' + db + '`)'
  const err = error as {name?: string; code?: number | string; codeName?: string; message?: string; errorLabels?: string[]; errorLabelSet?: Set<string>}
  const name = err.name ?? ''
  const detail = scrub(String(err.message ?? error).split('\n')[0] ?? '', uri)
  const during = phase === 'sync' ? 'while writing the trees' : phase === 'read' ? 'while reading the trees' : ''
  const retry = phase === 'sync' ? '; the local outputs are written, and building again finishes the sync' : ''

  if (name === 'MongoParseError' || name === 'MongoInvalidArgumentError' || (name === 'MongoAPIError' && phase === 'connect')) {
    return new UserError('Invalid MongoDB connection string ' + maskUri(uri) + ': ' + detail)
  }
  if (err.code === 18 || err.codeName === 'AuthenticationFailed' || name === 'MongoMissingCredentialsError') {
    return new UserError('MongoDB at ' + where + ' refused the credentials (authentication failed): check the user, the password and authSource in the connection string')
  }
  if (err.code === 13 || err.codeName === 'Unauthorized') {
    return new UserError('MongoDB at ' + where + ' refused the operation (not authorized): give the user read and write access to the database' + retry)
  }
  if (name === 'MongoServerSelectionError') {
    if (phase === 'connect') return new UserError('Cannot reach MongoDB at ' + where + ': ' + detail + ' (is the server running and the address right?)')
    return new UserError('Lost the connection to MongoDB at ' + where + ' ' + during + ': ' + detail + retry)
  }
  if (isConnectionError(error)) {
    const verb = phase === 'connect' ? 'Cannot reach' : 'Lost the connection to'
    return new UserError(verb + ' MongoDB at ' + where + (during ? ' ' + during : '') + ': ' + detail + retry)
  }
  if (name === 'MongoServerError' || name === 'MongoBulkWriteError' || name === 'MongoError') {
    return new UserError('MongoDB at ' + where + ' failed ' + (during || 'a command') + ': ' + detail + (err.codeName ? ' (' + err.codeName + ')' : '') + retry)
  }
  return error instanceof Error ? error : new Error(String(error))
}

/** A dropped or refused connection, however the driver wrapped it (a bulk write cut short carries it as its cause). */
function isConnectionError(error: unknown): boolean {
  for (let current = error as {name?: string; message?: string; cause?: unknown; errorLabelSet?: Set<string>} | undefined, depth = 0; current && depth < 5; current = current.cause as typeof current, depth++) {
    const name = current.name ?? ''
    if (/^Mongo(Network|NetworkTimeout|ServerClosed|TopologyClosed|NotConnected|PoolCleared)Error$/.test(name) || name === 'PoolClearedError' || name === 'PoolClearedOnNetworkError') return true
    if (current.errorLabelSet?.has('NetworkError') || current.errorLabelSet?.has('ResetPool')) return true
    if (/\bconnection \S+ to \S+ closed\b|ECONNRESET|ECONNREFUSED|EPIPE|socket hang up/i.test(current.message ?? '')) return true
  }
  return false
}
