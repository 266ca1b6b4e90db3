#!/usr/bin/env node
// Installs packed tarballs (scripts/pack.mjs) into an empty project, as a user would, and runs
// the smoke suite there (scripts/smoke/): `require` and `import` of `stowage` and
// `stowage/typeorm`, the same classes under both, memory/local round trips, streams, error codes,
// LocalStore under a native temporary path; then removes the platform package and checks the
// error names it, the platform and the fix.
//   node scripts/smoke-install.mjs --packages <dir> [--expect <platform>] [--offline] [--typecheck] [--keep]
// --expect      fail unless this host loads that platform package (e.g. linux-x64-musl on Alpine)
// --offline     install from npm's cache only (the packaging test in `npm test`)
// --typecheck   also `tsc --noEmit` a typed user file under node16, bundler and node10 resolution
//               (TypeScript and @types/node from this repository's devDependencies)
// Children run with a PATH that has no cargo or rustc on it: nothing may build from source.
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { basename, delimiter, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { hostSuffix, npm, readJson } from './lib/npm.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const repo = join(here, '..')

const RUST_TOOL = /^(cargo|rustc|rustup|rustdoc|rust-gdb|rust-lldb|rustfmt|clippy-driver|cargo-.*)(\.exe)?$/

/**
 * PATH with no cargo or rustc on it. A directory holding only Rust's tools (~/.cargo/bin) is
 * dropped; one that also holds everything else (/usr/bin, where Debian's rustc lives) is
 * replaced by a directory under `scratch` with links to all of it but the Rust tools.
 */
export function pathWithoutRust(scratch, path = process.env.PATH ?? '') {
  const exe = process.platform === 'win32' ? ['cargo.exe', 'rustc.exe'] : ['cargo', 'rustc']
  return path.split(delimiter).filter(Boolean).flatMap((dir, i) => {
    if (!exe.some((e) => existsSync(join(dir, e)))) return [dir]
    const others = readdirSync(dir).filter((name) => !RUST_TOOL.test(name))
    if (process.platform === 'win32' || others.length < 20) return []
    const mirror = join(scratch, `path-${i}`)
    mkdirSync(mirror)
    for (const name of others) symlinkSync(join(dir, name), join(mirror, name))
    return [mirror]
  }).join(delimiter)
}

function run(label, args, { cwd, env, allowFailure = false }) {
  const result = spawnSync(process.execPath, args, { cwd, env, encoding: 'utf8' })
  const output = `${result.stdout}${result.stderr}`
  process.stdout.write(output)
  if (result.status !== 0 && !allowFailure) throw new Error(`${label} failed (exit ${result.status})`)
  return { status: result.status, output }
}

const USER_TS = `// What a user writes: both entry points, typed.
import { MemoryStore, LocalStore, StorageError, NotFoundError, type ObjectMeta, type StorageErrorCode } from 'stowage'
import { StoredObjectColumn, StoredObjectSubscriber, FileObject, storedObjectColumnType } from 'stowage/typeorm'
import { multerStorage, type StowageStorageEngine } from 'stowage/multer'
import { saveMultipartFile } from 'stowage/fastify'

export async function roundTrip(): Promise<string> {
  const store = new MemoryStore()
  await store.put('k', 'v')
  const meta: ObjectMeta = await store.head('k')
  const local: LocalStore = new LocalStore('/tmp/x', { mkdir: true })
  void local
  try {
    await store.get('missing')
  } catch (error) {
    if (error instanceof NotFoundError) {
      const code: StorageErrorCode = error.code
      return code
    }
    if (error instanceof StorageError) return error.message
  }
  const kind: 'jsonb' | 'json' | 'simple-json' = storedObjectColumnType('postgres')
  const engine: StowageStorageEngine = multerStorage({ backend: 'uploads' })
  void [StoredObjectColumn, StoredObjectSubscriber, FileObject, kind, engine, saveMultipartFile]
  return (await (await store.get('k')).text()) + meta.size
}
`

function typecheck(project, env) {
  const tsc = createRequire(join(repo, 'package.json')).resolve('typescript/bin/tsc')
  const modes = [
    { name: 'node16 (ESM)', file: 'user.mts', compilerOptions: { module: 'node16', moduleResolution: 'node16' } },
    { name: 'node16 (CJS)', file: 'user.cts', compilerOptions: { module: 'node16', moduleResolution: 'node16' } },
    { name: 'bundler', file: 'user.ts', compilerOptions: { module: 'esnext', moduleResolution: 'bundler' } },
    // node10 ignores `exports`: `types` and `typesVersions` must carry every entry point.
    { name: 'node10', file: 'user.ts', compilerOptions: { module: 'commonjs', moduleResolution: 'node10', ignoreDeprecations: '5.0' } },
  ]
  let passed = 0
  for (const mode of modes) {
    writeFileSync(join(project, mode.file), USER_TS)
    const config = `tsconfig.${mode.name.replace(/\W+/g, '-')}.json`
    writeFileSync(join(project, config), JSON.stringify({
      compilerOptions: { target: 'es2022', strict: true, noEmit: true, experimentalDecorators: true, types: ['node'], ...mode.compilerOptions },
      files: [mode.file],
    }, null, 2))
    run(`tsc --noEmit under ${mode.name}`, [tsc, '--noEmit', '-p', config], { cwd: project, env })
    console.log(`  ok   tsc --noEmit, moduleResolution ${mode.name}`)
    passed++
  }
  return passed
}

/**
 * @param {{ packages: string, offline?: boolean, typecheck?: boolean, keep?: boolean, expect?: string }} options
 */
export function smokeInstall({ packages, offline = false, typecheck: doTypecheck = false, keep = false, expect }) {
  const manifest = readJson(join(packages, 'manifest.json'))
  const suffix = hostSuffix()
  if (expect && expect !== suffix) throw new Error(`this host needs ${suffix}, not ${expect} as the job expects`)
  const platformTarball = manifest.platforms[suffix]
  if (!platformTarball) throw new Error(`no tarball for this host (${suffix}) in ${packages}: ${Object.keys(manifest.platforms).join(', ')}`)
  const platformPackage = `stowage-${suffix}`
  const project = realpathSync(mkdtempSync(join(tmpdir(), 'stowage-user-')))
  console.log(`project ${project} (PATH without cargo/rustc)`)
  try {
    const scratch = join(project, '.path')
    mkdirSync(scratch)
    /** @type {NodeJS.ProcessEnv} */
    const env = { ...process.env, PATH: pathWithoutRust(scratch) }
    delete env.NAPI_RS_NATIVE_LIBRARY_PATH
    for (const tool of ['cargo', 'rustc']) {
      const found = spawnSync(process.platform === 'win32' ? `${tool}.exe` : tool, ['--version'], { env })
      if (!found.error) throw new Error(`${tool} is still reachable on the PATH given to the project`)
    }
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'stowage-user', version: '1.0.0', private: true }, null, 2))
    const specs = [join(packages, manifest.root), join(packages, platformTarball), `typeorm@${manifest.typeorm}`]
    if (doTypecheck) specs.push(`@types/node@${manifest.typesNode}`)
    const flags = ['--no-audit', '--no-fund', '--no-package-lock', offline ? '--offline' : '--prefer-offline']
    const started = Date.now()
    npm(['install', ...flags, ...specs], { cwd: project, env, quiet: true })
    const installed = readdirSync(join(project, 'node_modules')).filter((n) => n.startsWith('stowage'))
    console.log(`  ok   npm install of ${specs.map((s) => (s.endsWith('.tgz') ? basename(s) : s)).join(', ')} in ${Date.now() - started} ms: ${installed.join(', ')}`)
    if (existsSync(join(project, 'node_modules', 'stowage', 'native', `stowage.${suffix}.node`))) {
      throw new Error('the root package holds a binary')
    }
    for (const file of readdirSync(join(here, 'smoke'))) cpSync(join(here, 'smoke', file), join(project, file))

    run('smoke (require)', ['smoke.cjs'], { cwd: project, env })
    run('smoke (import)', ['smoke.mjs'], { cwd: project, env })
    if (doTypecheck) typecheck(project, env)

    rmSync(join(project, 'node_modules', platformPackage), { recursive: true, force: true })
    run('missing platform package', ['missing.cjs', platformPackage], { cwd: project, env })
  } finally {
    if (keep) console.log(`kept ${project}`)
    else rmSync(project, { recursive: true, force: true })
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      packages: { type: 'string' }, offline: { type: 'boolean' }, typecheck: { type: 'boolean' }, keep: { type: 'boolean' },
      expect: { type: 'string' },
    },
  })
  if (!values.packages) {
    console.error('usage: node scripts/smoke-install.mjs --packages <dir> [--expect <platform>] [--offline] [--typecheck] [--keep]')
    process.exit(2)
  }
  try {
    smokeInstall({ ...values, packages: resolve(values.packages) })
  } catch (error) {
    console.error(`smoke-install: ${error.message}`)
    process.exit(1)
  }
}
