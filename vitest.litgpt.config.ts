import {defineConfig} from 'vitest/config'

// The heavy interop suite (`npm run test:litgpt`): real LitGPT in a cached venv, tiny CPU training runs.
export default defineConfig({
  test: {
    include: ['test/litgpt/**/*.interop.ts'],
    testTimeout: 1_800_000,
    hookTimeout: 3_600_000,
    fileParallelism: false
  }
})
