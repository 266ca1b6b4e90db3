// The bench's own setup: its pinned extra dependencies (bench/.deps), its S3 server
// (bench/s3-server, built into bench/.tmp) and the native binary it measures.
import { execFileSync, spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { BENCH_DEPS } from './config.mjs'

/** Installs BENCH_DEPS into bench/.deps when missing or at another version; returns which load. */
export function ensureDeps(benchDir, log) {
  const deps = path.join(benchDir, '.deps')
  const available = {}
  for (const [name, version] of Object.entries(BENCH_DEPS)) {
    const pkg = path.join(deps, 'node_modules', name, 'package.json')
    let have = null
    try { have = JSON.parse(fs.readFileSync(pkg, 'utf8')).version } catch {}
    if (have !== version) {
      log(`installing ${name}@${version} into bench/.deps (first run)`)
      fs.mkdirSync(deps, { recursive: true })
      const r = spawnSync('npm', ['install', '--prefix', deps, '--no-audit', '--no-fund', '--save-exact', `${name}@${version}`],
        { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' })
      if (r.status !== 0) log(`  npm install failed: ${r.stderr.trim().split('\n').slice(-2).join(' ')}`)
    }
    try {
      // load it in a child: a binary that does not load must not take the runner down
      const probe = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(name)})`],
        { cwd: deps, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' })
      if (probe.status !== 0) throw new Error(probe.stderr.trim().split('\n').find((l) => /Error/.test(l)) ?? 'does not load')
      available[name] = { ok: true, version: createRequire(path.join(deps, 'package.json'))(`${name}/package.json`).version }
    } catch (e) {
      available[name] = { ok: false, reason: e.message }
      log(`  ${name} unavailable: ${e.message}; its rows are marked not run`)
    }
  }
  return available
}

/**
 * Snapshots the native binary (so that a rebuild during the run cannot change what is
 * measured) and tells whether it is a release or a debug build.
 */
export function snapshotNative(root, tmp, explicit) {
  let src = explicit
  if (!src) {
    const dir = path.join(root, 'native')
    const found = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.node')) : []
    if (!found.length) throw new Error('no native/*.node: run `npm run build` (and `npm run build:native:release` for real numbers)')
    src = path.join(dir, found[0])
  }
  src = path.resolve(src)
  const bytes = fs.readFileSync(src)
  const sha = crypto.createHash('sha256').update(bytes).digest('hex').slice(0, 12)
  const dest = path.join(tmp, `stowage-${sha}.node`)
  if (!fs.existsSync(dest)) fs.writeFileSync(dest, bytes)
  let profile
  try {
    const sections = execFileSync('readelf', ['-S', '-W', dest], { encoding: 'utf8', maxBuffer: 1 << 24 })
    profile = /\.debug_info/.test(sections) ? 'debug' : 'release'
  } catch {
    profile = bytes.length > 50 * 1024 * 1024 ? 'debug' : 'release' // debug builds are ~150 MB, release ~10 MB
  }
  const mtime = fs.statSync(src).mtime
  return { source: src, path: dest, sha, profile, sizeBytes: bytes.length, mtime: mtime.toISOString() }
}

/**
 * Builds the bench's in-memory S3 server (bench/s3-server) when its binary is missing or older
 * than its sources; returns the binary's path (the one __test__/servers starts as `s3mem`).
 * STOWAGE_BENCH_S3_SERVER names a prebuilt binary instead.
 */
export function ensureS3Server(benchDir, log) {
  if (process.env.STOWAGE_BENCH_S3_SERVER) return process.env.STOWAGE_BENCH_S3_SERVER
  const crate = path.join(benchDir, 's3-server')
  const targetDir = path.join(benchDir, '.tmp', 's3-server-target')
  const bin = path.join(targetDir, 'release', 'bench-s3-server')
  const sources = [path.join(crate, 'Cargo.toml'), path.join(crate, 'Cargo.lock'),
    ...fs.readdirSync(path.join(crate, 'src'), { recursive: true }).map((f) => path.join(crate, 'src', f))]
  const newest = Math.max(...sources.map((f) => fs.statSync(f).mtimeMs))
  let built = 0
  try { built = fs.statSync(bin).mtimeMs } catch {}
  if (built >= newest) return bin
  log(built ? 'building bench S3 server (its sources changed)' : 'building bench S3 server (first run, a minute or two)')
  const r = spawnSync('cargo', ['build', '--release', '--locked', '--quiet', '--manifest-path', path.join(crate, 'Cargo.toml'),
    '--target-dir', targetDir], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' })
  if (r.status !== 0 || !fs.existsSync(bin)) {
    const why = r.error ? r.error.message : (r.stderr ?? '').trim().split('\n').slice(-15).join('\n')
    throw new Error(`building bench/s3-server failed:\n${why}`)
  }
  fs.utimesSync(bin, new Date(), new Date()) // cargo leaves an up-to-date binary's mtime alone
  return bin
}
