/**
 * Whether a host (a bind address, or a request's Host header without its
 * port) is this machine only: then the APIs need no token, and a request
 * naming any other host is refused (no DNS rebinding: `127.evil.example` is
 * not loopback).
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase()
  return bare === 'localhost' || bare === '::1' || /^127\.\d+\.\d+\.\d+$/.test(bare) || bare === '::ffff:127.0.0.1'
}
