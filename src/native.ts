/** The generated napi-rs loader: the one place that loads the addon. */
import { createRequire } from 'node:module'
import type * as Native from '../native/index.js'

export type { Capabilities, LocalStoreOptions, NativeStore, NativeReader, NativeUpload, NativeGetOptions, NativePutOptions, NativeObjectMeta, NativeAttributes } from '../native/index.js'

const require = createRequire(import.meta.url)

/** The platform packages published with stowage (package.json's `napi.targets`). */
const PUBLISHED = new Set([
  'linux-x64-gnu', 'linux-arm64-gnu', 'linux-x64-musl', 'linux-arm64-musl',
  'darwin-x64', 'darwin-arm64', 'win32-x64-msvc',
])

function isMusl(): boolean {
  if (process.platform !== 'linux') return false
  // The same test as the generated loader's second one: glibc's Node reports its glibc.
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined
  return !report?.header?.glibcVersionRuntime
}

/** The platform package this process needs, e.g. `linux-x64-gnu`, and how to describe the host. */
export function hostTarget(): { suffix: string; host: string } {
  const { platform, arch } = process
  const abi = platform === 'linux' ? (isMusl() ? 'musl' : 'gnu') : platform === 'win32' ? 'msvc' : undefined
  const libc = platform === 'linux' ? (abi === 'musl' ? ' (musl libc)' : ' (glibc)') : ''
  return { suffix: abi ? `${platform}-${arch}-${abi}` : `${platform}-${arch}`, host: `${platform} ${arch}${libc}` }
}

/** The error stowage throws when no addon can be loaded: the package, the platform, the fix. */
export function nativeLoadError(cause: unknown, version: string, resolve: (id: string) => string = require.resolve): Error {
  const { suffix, host } = hostTarget()
  const pkg = `stowage-${suffix}`
  let message: string
  const override = process.env.NAPI_RS_NATIVE_LIBRARY_PATH
  if (override) {
    message = `stowage could not load the native addon NAPI_RS_NATIVE_LIBRARY_PATH names (${override}) on ${host} (see cause).`
  } else if (!PUBLISHED.has(suffix)) {
    message =
      `stowage has no prebuilt native addon for ${host}: there is no package ${pkg}. ` +
      `Prebuilt addons exist for ${[...PUBLISHED].join(', ')}; elsewhere, build one from source ` +
      `(npm run build:native in a clone) and point NAPI_RS_NATIVE_LIBRARY_PATH at the .node file.`
  } else {
    let installed = false
    try {
      resolve(`${pkg}/package.json`)
      installed = true
    } catch {
      // not installed: the usual case
    }
    message = installed
      ? `stowage could not load its native addon for ${host}: ${pkg} is installed but failed to load ` +
        `(see cause). Reinstall it: npm install ${pkg}@${version}`
      : `stowage could not load its native addon for ${host}: the package ${pkg} is not installed. ` +
        `It is an optional dependency of stowage, which npm skips under --omit=optional (or ` +
        `--no-optional), and sometimes when a package-lock.json was made on another platform ` +
        `(npm/cli#4828). Fix: npm install ${pkg}@${version}, or reinstall with optional ` +
        `dependencies: npm install --include=optional`
  }
  const error = new Error(message, { cause }) as Error & { code: string; packageName: string }
  error.code = 'ERR_STOWAGE_NATIVE_ADDON'
  error.packageName = pkg
  return error
}

function load(): typeof Native {
  try {
    return require('../native/index.cjs') as typeof Native
  } catch (cause) {
    const { version } = require('../package.json') as { version: string }
    throw nativeLoadError(cause, version)
  }
}

const native: typeof Native = load()
export default native
