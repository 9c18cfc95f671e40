import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Integration tests spawn builds that use every core themselves.
    fileParallelism: true,
    maxWorkers: 2
  }
})
