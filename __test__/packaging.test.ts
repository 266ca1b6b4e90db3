// Unit checks of the release machinery; the end-to-end packaging test (pack, install into an empty
// project, smoke suite) is scripts/packaging-test.mjs, which `npm test` runs before vitest.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
// @ts-expect-error: plain .mjs scripts, no declarations
import * as buildNativeScript from '../scripts/build-native.mjs'
// @ts-expect-error: plain .mjs scripts, no declarations
import * as packScript from '../scripts/pack.mjs'
// @ts-expect-error: plain .mjs scripts, no declarations
import * as noticesScript from '../scripts/third-party-notices.mjs'
import { hostTarget, nativeLoadError } from '../src/native.js'

// The scripts' functions these checks call, typed (their JSDoc is checked by tsconfig.scripts.json).
const { napiBuildArgs } = buildNativeScript as { napiBuildArgs: (argv: string[]) => string[] }
const { binaryTarget } = packScript as { binaryTarget: (file: string) => { platform: string; arch: string; abi?: string } }
const { bundledPackageDirs, writeThirdPartyNotices } = noticesScript as {
  bundledPackageDirs: (inputs: string[]) => string[]
  writeThirdPartyNotices: (dist: string, cwd: string) => string[]
}

describe('scripts/build-native.mjs', () => {
  it('forwards every argument the release workflow passes to napi build, after its own', () => {
    const args = napiBuildArgs(['--release', '--target', 'aarch64-unknown-linux-musl', '-x'])
    expect(args.slice(0, 2)).toEqual(['build', '--platform'])
    expect(args.slice(-4)).toEqual(['--release', '--target', 'aarch64-unknown-linux-musl', '-x'])
    expect(napiBuildArgs(['--dry-run', '--target', 'x86_64-unknown-linux-gnu', '--use-napi-cross']).slice(-3))
      .toEqual(['--target', 'x86_64-unknown-linux-gnu', '--use-napi-cross'])
    expect(napiBuildArgs(['--dry-run'])).not.toContain('--dry-run')
    // The test suite's hooks (`__panicForTest`) are in debug builds only, never in a release.
    expect(napiBuildArgs([])).toEqual(expect.arrayContaining(['--features', 'test-hooks']))
    expect(napiBuildArgs(['--release', '--target', 'x86_64-pc-windows-msvc'])).not.toContain('test-hooks')
  })
})

describe('the error when no addon loads', () => {
  const cause = new Error('Cannot find native binding')
  const notInstalled = () => { throw new Error('MODULE_NOT_FOUND') }

  it('names the missing package, the platform and the fix, with the original as cause', () => {
    const { suffix, host } = hostTarget()
    const error = nativeLoadError(cause, '1.2.3', notInstalled) as Error & { code: string; packageName: string }
    expect(error.code).toBe('ERR_STOWAGE_NATIVE_ADDON')
    expect(error.packageName).toBe(`stowage-${suffix}`)
    expect(error.message).toContain(host)
    expect(error.message).toContain(`the package stowage-${suffix} is not installed`)
    expect(error.message).toContain(`npm install stowage-${suffix}@1.2.3`)
    expect(error.message).toContain('npm install --include=optional')
    expect(error.cause).toBe(cause)
  })

  it('says so when the package is there but does not load', () => {
    const error = nativeLoadError(cause, '1.2.3', (id) => `/x/node_modules/${id}`)
    expect(error.message).toMatch(/is installed but failed to load \(see cause\)\. Reinstall it: npm install stowage-.+@1\.2\.3/)
  })

  it('names NAPI_RS_NATIVE_LIBRARY_PATH when that is what failed', () => {
    process.env.NAPI_RS_NATIVE_LIBRARY_PATH = '/nowhere/stowage.node'
    try {
      expect(nativeLoadError(cause, '1.2.3', notInstalled).message).toContain('NAPI_RS_NATIVE_LIBRARY_PATH names (/nowhere/stowage.node)')
    } finally {
      delete process.env.NAPI_RS_NATIVE_LIBRARY_PATH
    }
  })
})

describe('scripts/pack.mjs', () => {
  const built = `native/stowage.${hostTarget().suffix}.node`
  it.skipIf(!existsSync(built))('reads the platform of a built addon from its header', () => {
    const { platform, arch, abi } = binaryTarget(built)
    expect([platform, arch, abi].filter(Boolean).join('-')).toBe(hostTarget().suffix)
  })
})

describe('scripts/third-party-notices.mjs', () => {
  it('names the package of every bundled input, scoped and nested ones included, and skips our own files', () => {
    expect(
      bundledPackageDirs([
        'src/index.ts',
        'node_modules/file-type/core.js',
        'node_modules/file-type/util.js',
        'node_modules/@tokenizer/inflate/lib/index.js',
        'node_modules/debug/node_modules/ms/index.js',
      ]),
    ).toEqual(['node_modules/@tokenizer/inflate', 'node_modules/debug/node_modules/ms', 'node_modules/file-type'])
  })

  it("writes each bundled package's licence into the notices, removes the metafile, and refuses a package without a licence", () => {
    const work = mkdtempSync(join(tmpdir(), 'stowage-notices-'))
    try {
      const dist = join(work, 'dist')
      mkdirSync(dist)
      const metafile = (inputs: string[]) => writeFileSync(join(dist, 'metafile-cjs.json'), JSON.stringify({ inputs: Object.fromEntries(inputs.map((i) => [i, {}])) }))
      metafile(['src/index.ts', 'node_modules/file-type/core.js'])
      // The real package, as the build finds it (the repository's node_modules).
      expect(writeThirdPartyNotices(dist, process.cwd())).toEqual(['file-type'])
      const notices = readFileSync(join(dist, 'THIRD-PARTY-NOTICES.txt'), 'utf8')
      const licence = readFileSync(join('node_modules/file-type', readdirSync('node_modules/file-type').find((f) => /^licen[cs]e/i.test(f))!), 'utf8')
      expect(notices).toContain(`file-type@${(JSON.parse(readFileSync('node_modules/file-type/package.json', 'utf8')) as { version: string }).version}`)
      expect(notices).toContain(licence.trim())
      expect(readdirSync(dist)).toEqual(['THIRD-PARTY-NOTICES.txt'])

      const bare = join(work, 'node_modules', 'bare')
      mkdirSync(bare, { recursive: true })
      writeFileSync(join(bare, 'package.json'), JSON.stringify({ name: 'bare', version: '1.0.0', license: 'MIT' }))
      metafile(['node_modules/bare/index.js'])
      expect(() => writeThirdPartyNotices(dist, work)).toThrow(/bare@1\.0\.0 .* has no licence file/)
    } finally {
      rmSync(work, { recursive: true, force: true })
    }
  })
})
