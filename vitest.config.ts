import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['__test__/**/*.test.ts'],
    globalSetup: ['./__test__/servers/global-setup.mjs'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: more workers only make the heavy streaming tests fight for them.
    maxWorkers: 2,
  },
})
