// Unit checks of the release machinery; the end-to-end packaging test (pack, install into an empty
// project, smoke suite) is scripts/packaging-test.mjs, which `npm test` runs before vitest.
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
// @ts-expect-error: plain .mjs scripts, no declarations
import * as buildNativeScript from '../scripts/build-native.mjs'
// @ts-expect-error: plain .mjs scripts, no declarations
import * as packScript from '../scripts/pack.mjs'
import { hostTarget, nativeLoadError } from '../src/native.js'

// The scripts' functions these checks call, typed (their JSDoc is checked by tsconfig.scripts.json).
const { napiBuildArgs } = buildNativeScript as { napiBuildArgs: (argv: string[]) => string[] }
const { binaryTarget } = packScript as { binaryTarget: (file: string) => { platform: string; arch: string; abi?: string } }

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
