// The bench's own setup: its pinned extra dependencies (bench/.deps) and the native binary it
// measures. Its S3 server is the shared one of servers/ (crates/s3-mem-server).
import { spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { BENCH_DEPS, BENCH_PY_DEPS } from './config.mjs'

/**
 * Whether a pinned peer is there to measure: its version, or why its rows are marked not run.
 * @typedef {{ ok: boolean, version?: string, python?: string, reason?: string }} PeerStatus
 */

/**
 * Installs BENCH_DEPS into bench/.deps when missing or at another version; returns which load.
 * @returns {Record<string, PeerStatus>}
 */
export function ensureDeps(benchDir, log) {
  const deps = path.join(benchDir, '.deps')
  /** @type {Record<string, PeerStatus>} */
  const available = {}
  for (const [name, version] of Object.entries(BENCH_DEPS)) {
    const pkg = path.join(deps, 'node_modules', name, 'package.json')
    let have = null
    try { have = JSON.parse(fs.readFileSync(pkg, 'utf8')).version } catch { /* not installed yet */ }
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

/** The bench's virtualenv's Python (bench/.deps/venv, made by ensurePython). */
export const venvPython = (benchDir) => path.join(benchDir, '.deps', 'venv', process.platform === 'win32' ? 'Scripts/python.exe' : 'bin/python')

/**
 * Makes the bench's virtualenv (bench/.deps/venv) with `python3 -m venv` on first run and
 * installs BENCH_PY_DEPS into it from PyPI with its pip, when missing or at another version.
 * Never throws: without Python, the venv module or the package, the Python peers' rows are
 * marked not run with the reason.
 * @returns {Record<string, PeerStatus>}
 */
export function ensurePython(benchDir, log) {
  const python = venvPython(benchDir)
  const venv = path.dirname(path.dirname(python))
  const run = (cmd, args) => spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' })
  const last = (r) => (r.error?.message ?? `${r.stderr}${r.stdout}`.trim().split('\n').slice(-2).join(' ')) || `exit ${r.status}`
  const all = (reason) => Object.fromEntries(Object.keys(BENCH_PY_DEPS).map((name) => [name, { ok: false, reason }]))
  if (!fs.existsSync(python)) {
    const system = process.env.STOWAGE_BENCH_PYTHON || 'python3'
    log(`making a Python virtualenv in bench/.deps/venv with ${system} (first run)`)
    fs.rmSync(venv, { recursive: true, force: true }) // a half-made one
    const r = run(system, ['-m', 'venv', venv])
    if (r.status !== 0) {
      const hint = r.error ? 'install Python 3 or name one with STOWAGE_BENCH_PYTHON' : 'on Debian/Ubuntu: apt-get install python3-venv'
      const reason = `\`${system} -m venv\` failed (${last(r)}); ${hint}`
      log(`  ${reason}; the Python peers' rows are marked not run`)
      fs.rmSync(venv, { recursive: true, force: true })
      return all(reason)
    }
  }
  const pythonVersion = run(python, ['-c', 'import sys; print(sys.version.split()[0])']).stdout?.trim()
  /** @type {Record<string, PeerStatus>} */
  const available = {}
  for (const [name, version] of Object.entries(BENCH_PY_DEPS)) {
    const installed = () => run(python, ['-c', `import importlib.metadata as m; print(m.version(${JSON.stringify(name)}))`]).stdout?.trim()
    if (installed() !== version) {
      log(`installing ${name}==${version} into bench/.deps/venv from PyPI (first run)`)
      const r = run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--quiet', `${name}==${version}`])
      if (r.status !== 0) log(`  pip install failed: ${last(r)}`)
    }
    const probe = run(python, ['-c', `import ${name}`])
    if (probe.status === 0 && installed() === version) available[name] = { ok: true, version, python: pythonVersion }
    else {
      available[name] = { ok: false, reason: probe.status === 0 ? `${name} ${installed() || 'missing'} installed, not ${version}` : last(probe) }
      log(`  ${name} unavailable: ${available[name].reason}; its rows are marked not run`)
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
  // By size, not by a `.debug_info` section: a release build kept unstripped for `perf`
  // (CARGO_PROFILE_RELEASE_STRIP=none, ~17 MB) has one too, from the standard library. A debug
  // build of the addon is ~150 MB, a stripped release build ~10 MB.
  const profile = bytes.length > 50 * 1024 * 1024 ? 'debug' : 'release'
  const mtime = fs.statSync(src).mtime
  return { source: src, path: dest, sha, profile, sizeBytes: bytes.length, mtime: mtime.toISOString() }
}
