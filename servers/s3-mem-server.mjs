// Builds crates/s3-mem-server, the in-memory S3 server that the tests (kind `s3mem`) and the
// benchmark start, in release into the workspace's target dir.
//
//   node servers/s3-mem-server.mjs        # build it if missing or stale; prints its path
//   import { ensureS3MemServer } from './s3-mem-server.mjs'
//
// STOWAGE_S3_MEM_SERVER names a prebuilt binary instead (then nothing is built).
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(HERE, '..')
const CRATE = path.join(ROOT, 'crates', 's3-mem-server')
// cargo resolves a relative CARGO_TARGET_DIR against its cwd, which is ROOT below
const TARGET_DIR = path.resolve(ROOT, process.env.CARGO_TARGET_DIR || 'target')

/** Where the binary is: STOWAGE_S3_MEM_SERVER, else cargo's release output in the workspace. */
export const S3_MEM_SERVER = process.env.STOWAGE_S3_MEM_SERVER ||
  path.join(TARGET_DIR, 'release', process.platform === 'win32' ? 's3-mem-server.exe' : 's3-mem-server')

/** What the binary is built from: a newer mtime on any of these makes it stale. */
function sources() {
  const files = [path.join(CRATE, 'Cargo.toml'), path.join(ROOT, 'Cargo.toml'), path.join(ROOT, 'Cargo.lock')]
  for (const f of fs.readdirSync(path.join(CRATE, 'src'), { recursive: true, encoding: 'utf8' })) files.push(path.join(CRATE, 'src', f))
  return files
}

/**
 * Builds the server when its binary is missing or older than its sources; returns its path.
 * `verbose` shows cargo's own output (for a terminal); otherwise `log` says that a build runs
 * and a failure carries cargo's last lines.
 */
export async function ensureS3MemServer({ log = (msg) => process.stderr.write(`${msg}\n`), verbose = false } = {}) {
  if (process.env.STOWAGE_S3_MEM_SERVER) {
    if (!fs.existsSync(S3_MEM_SERVER)) throw new Error(`STOWAGE_S3_MEM_SERVER=${S3_MEM_SERVER}: no such file`)
    return S3_MEM_SERVER
  }
  const newest = Math.max(...sources().map((f) => fs.statSync(f).mtimeMs))
  let built = 0
  try { built = fs.statSync(S3_MEM_SERVER).mtimeMs } catch { /* not built yet */ }
  if (built >= newest) return S3_MEM_SERVER
  log(built ? 's3-mem-server: sources changed, rebuilding (release)' : 's3-mem-server: building (release; the first build takes a minute or two)')
  const args = ['build', '--release', '--locked', '-p', 's3-mem-server', ...(verbose ? [] : ['--quiet'])]
  const { status, error, stderr } = await new Promise((resolve) => {
    const child = spawn('cargo', args, { cwd: ROOT, stdio: ['ignore', verbose ? 'inherit' : 'ignore', verbose ? 'inherit' : 'pipe'] })
    let err = ''
    child.stderr?.setEncoding('utf8').on('data', (d) => { err = (err + d).slice(-20_000) })
    child.on('error', (e) => resolve({ status: null, error: e, stderr: err }))
    child.on('close', (code) => resolve({ status: code, error: null, stderr: err }))
  })
  if (status !== 0 || !fs.existsSync(S3_MEM_SERVER)) {
    const why = error ? error.message : verbose ? '(cargo output above)' : stderr.trim().split('\n').slice(-15).join('\n')
    throw new Error(`building crates/s3-mem-server failed (cargo ${args.join(' ')}):\n${why}`)
  }
  // cargo leaves an up-to-date binary's mtime alone; without this, a touched source (a checkout,
  // a Cargo.lock change for the addon alone) would run cargo again on every start
  const now = new Date()
  fs.utimesSync(S3_MEM_SERVER, now, now)
  return S3_MEM_SERVER
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    console.log(await ensureS3MemServer({ verbose: true }))
  } catch (e) {
    console.error(e.message)
    process.exitCode = 1
  }
}
