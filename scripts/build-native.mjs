#!/usr/bin/env node
// Builds the native addon (debug unless --release) with @napi-rs/cli into native/.
// Cargo's own fingerprints decide what is stale, so a second run is a no-op of a few seconds.
//
// Every argument is forwarded to `napi build`, so the release workflow's
//   node scripts/build-native.mjs --release --target aarch64-unknown-linux-musl -x
// builds that target (and names the file stowage.linux-arm64-musl.node), not the host's.
// `--dry-run` prints the command as JSON instead of running it (the packaging test checks it).
import { spawnSync } from 'node:child_process'
import { realpathSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * The `napi build` arguments for this script's own arguments (all forwarded, --dry-run aside).
 * @param {string[]} argv
 * @returns {string[]}
 */
export function napiBuildArgs(argv) {
  const forwarded = argv.filter((arg) => arg !== '--dry-run')
  return [
    'build', '--platform',
    '--manifest-path', 'crates/stowage-node/Cargo.toml',
    '--package-json-path', 'package.json',
    '--output-dir', 'native', '--js', 'index.cjs', '--dts', 'index.d.ts',
    // Debug builds carry the test suite's hooks (`__panicForTest`); release builds never do.
    ...(forwarded.includes('--release') ? [] : ['--features', 'test-hooks']),
    ...forwarded,
  ]
}

function main(argv) {
  // The CLI's own script, run by this Node: no `npx` (a .cmd on Windows, which spawnSync cannot
  // start without a shell since Node 20.12), no shell quoting.
  const require = createRequire(import.meta.url)
  const cliPackage = require.resolve('@napi-rs/cli/package.json', { paths: [root] })
  const cli = join(dirname(cliPackage), require(cliPackage).bin.napi)
  const command = [process.execPath, cli, ...napiBuildArgs(argv)]
  if (argv.includes('--dry-run')) {
    console.log(JSON.stringify({ cwd: root, command }))
    return 0
  }
  const result = spawnSync(command[0], command.slice(1), { cwd: root, stdio: 'inherit' })
  if (result.error) throw result.error
  return result.status ?? 1
}

if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  process.exit(main(process.argv.slice(2)))
}
