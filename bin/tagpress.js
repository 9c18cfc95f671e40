#!/usr/bin/env node
// The CLI is compiled TypeScript (`npm run compile`, run by `npm install` via `prepare`).
import {existsSync} from 'node:fs'

const entry = new URL('../dist/src/cli/main.js', import.meta.url)
if (!existsSync(entry)) {
  console.error('tagpress: not compiled yet; run `npm run compile` in ' + new URL('..', import.meta.url).pathname)
  process.exit(2)
}
await import(entry.href)
