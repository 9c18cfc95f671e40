import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    // `expect.poll` waits for something a browser or a server does: 1 s (vitest's default) is too short under the
    // whole suite's load (a panel opening loads its module from the dev server first). A poll ends once it holds.
    expect: {poll: {timeout: 10_000}},
    hookTimeout: 300_000,
    // Integration tests spawn builds that use every core themselves.
    fileParallelism: true,
    maxWorkers: 2
  }
})
