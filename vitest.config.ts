import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// `stowage`, `stowage/typeorm`, ... resolve to src/ as tsconfig.json's paths say, so code written
// against the package names (examples/) runs in the tests from source, sharing one registry with
// the tests that import src/ directly.
const { compilerOptions } = JSON.parse(readFileSync(new URL('./tsconfig.json', import.meta.url), 'utf8')) as {
  compilerOptions: { paths: Record<string, [string]> }
}
const alias = Object.entries(compilerOptions.paths).map(([name, [target]]) => ({
  find: new RegExp(`^${name.replace(/[/.]/g, '\\$&')}$`),
  replacement: fileURLToPath(new URL(target, import.meta.url)),
}))

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['__test__/**/*.test.ts'],
    globalSetup: ['./__test__/servers/global-setup.mjs'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: more workers only make the heavy streaming tests fight for them.
    maxWorkers: 2,
  },
})
