#!/usr/bin/env node
// Builds the native addon (debug unless --release) with @napi-rs/cli.
// Cargo's own fingerprints decide what is stale, so a second run is a no-op of a few seconds.
import { spawnSync } from 'node:child_process'

const release = process.argv.includes('--release')
const args = [
  'napi', 'build', '--platform',
  '--manifest-path', 'crates/stowage-node/Cargo.toml',
  '--output-dir', 'native', '--js', 'index.cjs', '--dts', 'index.d.ts',
  // Debug builds carry the test suite's hooks (`__panicForTest`); release builds never do.
  ...(release ? ['--release'] : ['--features', 'test-hooks']),
]
const result = spawnSync('npx', args, { stdio: 'inherit' })
process.exit(result.status ?? 1)
