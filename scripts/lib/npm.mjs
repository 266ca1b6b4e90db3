// Helpers shared by scripts/pack.mjs, scripts/smoke-install.mjs and the packaging test.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

/**
 * npm's own CLI script next to this Node, run by this Node: the same npm on every OS, no
 * npm.cmd (which spawnSync cannot start on Windows without a shell), and no dependence on PATH
 * (the packaging test runs with a PATH that has no Rust toolchain in it).
 */
export function npmCommand() {
  const candidates = [
    process.env.npm_execpath,
    join(dirname(process.execPath), 'node_modules', 'npm', 'bin', 'npm-cli.js'),
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'),
  ]
  const cli = candidates.find((c) => c && /npm-cli\.js$/.test(c) && existsSync(c))
  return cli ? [process.execPath, cli] : ['npm']
}

/**
 * Runs npm with `args` in `cwd`; throws with its output unless it exits 0. Returns stdout.
 * @param {string[]} args
 * @param {{ cwd?: string, env?: NodeJS.ProcessEnv, quiet?: boolean }} [options]
 */
export function npm(args, { cwd, env = process.env, quiet = false } = {}) {
  const [cmd, ...pre] = npmCommand()
  const result = spawnSync(cmd, [...pre, ...args], {
    cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, shell: cmd === 'npm' && process.platform === 'win32',
  })
  if (result.error) throw result.error
  if (result.status !== 0) {
    throw new Error(`npm ${args.join(' ')} (in ${cwd}) exited ${result.status}:\n${result.stdout}\n${result.stderr}`)
  }
  if (!quiet && result.stderr.trim()) process.stderr.write(result.stderr)
  return result.stdout
}

/** The platform package suffix this process needs, as the napi-rs loader picks it. */
export function hostSuffix() {
  const { platform, arch } = process
  if (platform === 'linux') {
    const report = /** @type {{ header?: { glibcVersionRuntime?: string } } | undefined} */ (process.report?.getReport())
    return `${platform}-${arch}-${report?.header?.glibcVersionRuntime ? 'gnu' : 'musl'}`
  }
  if (platform === 'win32') return `${platform}-${arch}-msvc`
  return `${platform}-${arch}`
}

export function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'))
}

/** Bytes for people: 1.2 MB. */
export function size(bytes) {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}
