#!/usr/bin/env node
// The packaging test `npm test` runs (scripts/test.sh), after the debug addon is built:
// 1. scripts/build-native.mjs forwards the release workflow's arguments to `napi build`;
// 2. `npm run build:ts`, then scripts/pack.mjs packs the root package and this host's platform
//    package (the built .node staged in a temporary copy of npm/<platform>) into .test-tmp/;
// 3. publint and @arethetypeswrong/cli on the root tarball: no problems;
// 4. scripts/smoke-install.mjs: both tarballs into an empty project whose PATH has no cargo or
//    rustc; require and import of both entry points, the same classes, round trips, streams,
//    errors; tsc under node16/bundler/node10; the error without the platform package.
import { spawnSync } from 'node:child_process'
import assert from 'node:assert/strict'
import { readFileSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { npm } from './lib/npm.mjs'
import { packAll } from './pack.mjs'
import { smokeInstall } from './smoke-install.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
let passed = 0
const step = async (name, fn) => {
  const started = Date.now()
  console.log(`\n-- ${name}`)
  await fn()
  passed++
  console.log(`   (${((Date.now() - started) / 1000).toFixed(1)} s)`)
}
/** The file a devDependency's `bin` names (not every package exports its package.json). */
const binOf = (name) => {
  const dir = join(root, 'node_modules', name)
  const { bin } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  return join(dir, typeof bin === 'string' ? bin : Object.values(bin)[0])
}
const node = (args, label) => {
  const result = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' })
  process.stdout.write(result.stdout + result.stderr)
  if (result.status !== 0) throw new Error(`${label} exited ${result.status}`)
  return result.stdout
}

try {
  await step('build-native.mjs forwards its arguments to napi build', () => {
    const workflow = readFileSync(join(root, '.github/workflows/ci.yml'), 'utf8')
    assert.match(workflow, /node scripts\/build-native\.mjs --release --target '\$\{\{ matrix\.target \}\}' \$\{\{ matrix\.flags \}\}/)
    for (const extra of [
      ['--release', '--target', 'aarch64-unknown-linux-gnu', '--use-napi-cross'],
      ['--release', '--target', 'x86_64-unknown-linux-musl', '-x'],
      ['--release', '--target', 'x86_64-pc-windows-msvc'],
    ]) {
      const { command } = JSON.parse(node(['scripts/build-native.mjs', '--dry-run', ...extra], 'build-native --dry-run'))
      assert.equal(command[0], process.execPath)
      assert.deepEqual(command.slice(2, 4), ['build', '--platform'])
      assert.deepEqual(command.slice(-extra.length), extra, 'the arguments reach napi build, in order')
    }
  })

  await step('npm run build:ts (CommonJS build + ESM wrappers)', () => {
    npm(['run', 'build:ts'], { cwd: root, quiet: true })
    assert.match(readFileSync(join(root, 'dist/index.js'), 'utf8'), /createRequire\(import\.meta\.url\)\('\.\/index\.cjs'\)/)
  })

  const out = join(root, '.test-tmp', 'packages')
  rmSync(out, { recursive: true, force: true })
  let manifest
  await step('pack the root package and this host\'s platform package', () => {
    manifest = packAll({ out })
  })

  await step('publint and attw on the root tarball', () => {
    const tarball = join(out, manifest.root)
    node([binOf('publint'), 'run', tarball, '--strict'], 'publint')
    node([binOf('@arethetypeswrong/cli'), tarball, '--format', 'table-flipped'], 'attw')
  })

  await step('install the tarballs into an empty project and run the smoke suite there', () => {
    smokeInstall({ packages: out, typecheck: true })
  })
  rmSync(out, { recursive: true, force: true })
  console.log(`\npackaging: ${passed} passed, 0 failed`)
} catch (error) {
  console.error(`\n${error.stack}`)
  console.log(`\npackaging: ${passed} passed, 1 failed`)
  process.exit(1)
}
