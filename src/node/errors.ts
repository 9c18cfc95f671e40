/** A problem the user can fix (bad config, bad arguments): printed as a message, never a stack trace. */
export class UserError extends Error {
  override name = 'UserError'
}
