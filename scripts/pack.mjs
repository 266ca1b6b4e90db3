#!/usr/bin/env node
// Packs what a release publishes, from built binaries and dist/, without touching the repository:
//   node scripts/pack.mjs --out <dir> [--artifacts <dir>] [--all]
// - one platform package per `stowage.<platform>.node` found (recursively) under --artifacts
//   (default native/): npm/<platform>/ staged in a temporary directory with its binary, whose
//   header must match the platform (ELF/Mach-O/PE machine, glibc or not), then `npm pack`ed;
// - the root package, staged with `optionalDependencies` on every platform package at its own
//   version (what `napi prepublish` would add), then `npm pack`ed: it must hold no binary.
// --all requires a binary for every directory in npm/ (the release's pack job); --repository
// <https://github.com/owner/name> writes `repository` into every package (npm provenance needs it).
// Writes <out>/manifest.json ({ root, platforms: { 'linux-x64-gnu': file } }) and prints sizes.
// The release workflow tests these very tarballs on every OS and publishes them.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { npm, readJson, size } from './lib/npm.mjs'
import { NOTICES_FILE } from './third-party-notices.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * What a binary's header says it is: `x64`/`arm64`, `linux`/`darwin`/`win32`, glibc or not.
 * @param {string} file
 * @returns {{ platform: string, arch: string, abi?: string }}
 */
export function binaryTarget(file) {
  const bytes = readFileSync(file)
  if (bytes.readUInt32BE(0) === 0x7f454c46) {
    const machine = bytes.readUInt16LE(18)
    const arch = machine === 62 ? 'x64' : machine === 183 ? 'arm64' : `elf-machine-${machine}`
    // A glibc build references versioned glibc symbols (GLIBC_2.x); a musl build has none.
    const glibc = bytes.includes('GLIBC_2.')
    return { platform: 'linux', arch, abi: glibc ? 'gnu' : 'musl' }
  }
  if (bytes.readUInt32LE(0) === 0xfeedfacf) {
    const cpu = bytes.readUInt32LE(4)
    const arch = cpu === 0x01000007 ? 'x64' : cpu === 0x0100000c ? 'arm64' : `macho-cpu-${cpu.toString(16)}`
    return { platform: 'darwin', arch }
  }
  if (bytes.toString('latin1', 0, 2) === 'MZ') {
    const pe = bytes.readUInt32LE(0x3c)
    const machine = bytes.readUInt16LE(pe + 4)
    const arch = machine === 0x8664 ? 'x64' : machine === 0xaa64 ? 'arm64' : `pe-machine-${machine.toString(16)}`
    return { platform: 'win32', arch, abi: 'msvc' }
  }
  return { platform: 'unknown', arch: 'unknown' }
}

/** @param {{ platform: string, arch: string, abi?: string }} target */
function targetName({ platform, arch, abi }) {
  return abi ? `${platform}-${arch}-${abi}` : `${platform}-${arch}`
}

function findBinaries(dir, binaryName) {
  const found = new Map()
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name)
      if (entry.isDirectory()) walk(path)
      const m = entry.isFile() && entry.name.match(new RegExp(`^${binaryName}\\.(.+)\\.node$`))
      if (m) {
        if (found.has(m[1])) throw new Error(`two binaries for ${m[1]}: ${found.get(m[1])} and ${path}`)
        found.set(m[1], path)
      }
    }
  }
  walk(dir)
  return found
}

function pack(dir, out) {
  const [info] = JSON.parse(npm(['pack', '--json', '--pack-destination', out], { cwd: dir, quiet: true }))
  return info
}

/**
 * @param {{ out: string, artifacts?: string, all?: boolean, repository?: { type: string, url: string } }} options  `repository`: written into each platform package.json
 */
export function packAll({ out, artifacts = join(root, 'native'), all = false, repository }) {
  mkdirSync(out, { recursive: true })
  const pkg = readJson(join(root, 'package.json'))
  const binaryName = pkg.napi.binaryName
  const platforms = readdirSync(join(root, 'npm')).filter((d) => existsSync(join(root, 'npm', d, 'package.json'))).sort()
  const binaries = findBinaries(artifacts, binaryName)
  for (const name of binaries.keys()) {
    if (!platforms.includes(name)) throw new Error(`${binaries.get(name)}: no npm/${name} package for it`)
  }
  if (all) {
    const missing = platforms.filter((p) => !binaries.has(p))
    if (missing.length > 0) throw new Error(`no binary for ${missing.join(', ')} under ${artifacts}`)
  }
  for (const required of ['dist/index.cjs', 'dist/index.js', 'dist/index.d.ts', 'dist/typeorm/index.js', 'dist/multer/index.js', 'dist/fastify/index.js', 'native/index.cjs']) {
    if (!existsSync(join(root, required))) throw new Error(`${required} is missing: run npm run build:ts first`)
  }
  if (!readFileSync(join(root, 'dist/index.js'), 'utf8').includes("('./index.cjs')")) {
    throw new Error('dist/index.js is not the wrapper over the CommonJS build: run npm run build:ts (not tsup alone)')
  }

  const stage = mkdtempSync(join(tmpdir(), 'stowage-pack-'))
  // What the smoke install adds beside the tarballs: the typeorm peer and, for its type check,
  // Node's types, at the versions this repository tests with.
  const manifest = {
    version: pkg.version, root: null, platforms: {},
    typeorm: pkg.devDependencies.typeorm, typesNode: pkg.devDependencies['@types/node'],
  }
  const rows = []
  try {
    for (const [name, binary] of [...binaries].sort()) {
      const actual = targetName(binaryTarget(binary))
      if (actual !== name) throw new Error(`${binary} is a ${actual} binary, not ${name}`)
      const dir = join(stage, name)
      cpSync(join(root, 'npm', name), dir, { recursive: true })
      cpSync(join(root, 'LICENSE'), join(dir, 'LICENSE'))
      cpSync(binary, join(dir, `${binaryName}.${name}.node`))
      const platformPkg = readJson(join(dir, 'package.json'))
      if (platformPkg.version !== pkg.version) throw new Error(`npm/${name} is at ${platformPkg.version}, the root at ${pkg.version}`)
      if (repository) writeFileSync(join(dir, 'package.json'), JSON.stringify({ ...platformPkg, repository }, null, 2) + '\n')
      const info = pack(dir, out)
      manifest.platforms[name] = info.filename
      rows.push([info.filename, info.size, info.unpackedSize, info.entryCount])
    }

    const dir = join(stage, 'root')
    mkdirSync(dir)
    for (const entry of ['dist', 'native/index.cjs', 'native/index.d.ts', 'README.md', 'LICENSE']) {
      cpSync(join(root, entry), join(dir, entry), { recursive: true })
    }
    const staged = { ...pkg }
    staged.optionalDependencies = Object.fromEntries(platforms.map((p) => [`${pkg.name}-${p}`, pkg.version]))
    // npm's provenance checks that `repository` names the repository the workflow ran in.
    if (repository) staged.repository = repository
    writeFileSync(join(dir, 'package.json'), JSON.stringify(staged, null, 2) + '\n')
    const info = pack(dir, out)
    const binariesInRoot = info.files.filter((f) => f.path.endsWith('.node'))
    if (binariesInRoot.length > 0) throw new Error(`the root tarball holds binaries: ${binariesInRoot.map((f) => f.path).join(', ')}`)
    // The licences of the code bundled into dist/ ship with it (scripts/third-party-notices.mjs).
    if (!info.files.some((f) => f.path === `dist/${NOTICES_FILE}`)) throw new Error(`the root tarball lacks dist/${NOTICES_FILE}: run npm run build:ts`)
    manifest.root = info.filename
    rows.unshift([info.filename, info.size, info.unpackedSize, info.entryCount])
  } finally {
    rmSync(stage, { recursive: true, force: true })
  }
  writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n')
  console.log('tarball'.padEnd(40), 'packed'.padStart(10), 'unpacked'.padStart(10), 'files'.padStart(6))
  for (const [file, packed, unpacked, files] of rows) {
    console.log(file.padEnd(40), size(packed).padStart(10), size(unpacked).padStart(10), String(files).padStart(6))
  }
  return manifest
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { out: { type: 'string' }, artifacts: { type: 'string' }, all: { type: 'boolean' }, repository: { type: 'string' } },
  })
  if (!values.out) {
    console.error('usage: node scripts/pack.mjs --out <dir> [--artifacts <dir>] [--all] [--repository <url>]')
    process.exit(2)
  }
  const repository = values.repository ? { type: 'git', url: `git+${values.repository}.git` } : undefined
  packAll({ out: resolve(values.out), artifacts: values.artifacts ? resolve(values.artifacts) : undefined, all: values.all, repository })
}
