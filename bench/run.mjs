#!/usr/bin/env node
// stowage's benchmark: `npm run bench` (full) or `npm run bench -- --quick` (scaled down).
//
// Measures stowage and its peers side by side on this machine, in one run: every
// (library, workload, run) in a fresh process (bench/worker.mjs) so that CPU and peak RSS are
// per row, libraries interleaved round by round so that drift hits all alike, the median of
// `runs` runs after a warm-up. S3 runs talk to crates/s3-mem-server on loopback, an in-memory S3
// server (s3s's protocol layer, SigV4 checked; bodies held and served as zero-copy Bytes), built
// by servers/ when missing or stale; a `limit` row (curl) shows that server's own ceiling.
//
// Options: --quick, --issue-sizes (the sizes issue 5 names; slower), --runs N, --only id[,id] (workload ids or prefixes, e.g. s3-large,presign),
// --libs a,b, --native <file.node> (default native/*.node; env STOWAGE_BENCH_NATIVE),
// --baseline <checkout> (also measures `stowage-baseline`: that checkout's dist/ and native/*.node,
// built as this one is, interleaved with the rest: a before/after table from one run),
// --readme / --no-readme (default: the full run writes README.md's Performance section, a
// quick or filtered run does not), --plain (no progress bar), size flags from config.mjs.
// Outputs: bench/results/latest.json, bench/results/ratios.svg, README.md between
// <!-- bench:start --> and <!-- bench:end --> (a quick run writes latest-quick.json and
// ratios-quick.svg instead, an --issue-sizes run latest-issue-sizes.json and
// ratios-issue-sizes.svg; neither touches README.md unless given --readme).
import { spawn, execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEFAULTS, FLAGS, ISSUE, QUICK } from './config.mjs'
import { findServerPid } from './server-cpu.mjs'
import { ensureDeps, ensurePython, snapshotNative } from './setup.mjs'
import { startServers, stopServers } from '../servers/index.mjs'
import { WORKLOADS } from './workloads/index.mjs'
import { aggregate, checkTargets, markdown, svg, writeReadme } from './report.mjs'
import { key, pool, randomBytes } from './util.mjs'

const BENCH = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(BENCH, '..')
const TMP = path.join(BENCH, '.tmp')
const RESULTS = path.join(BENCH, 'results')

// ---- arguments -------------------------------------------------------------------------
const argv = process.argv.slice(2)
const has = (f) => argv.includes(f)
const value = (f) => { const i = argv.indexOf(f); return i >= 0 ? argv[i + 1] : undefined }
const quick = has('--quick')
const cfg = { ...(quick ? QUICK : has('--issue-sizes') ? ISSUE : DEFAULTS) }
for (const [flag, [name, mult]] of Object.entries(FLAGS)) if (value(flag) !== undefined) cfg[name] = Math.round(Number(value(flag)) * mult)
const only = value('--only')?.split(',')
const onlyLibs = value('--libs')?.split(',')
const baselineDir = value('--baseline') && path.resolve(value('--baseline'))
// (`--baseline` only adds rows: a full run with it still writes the README, without them)
const filtered = Boolean(only || onlyLibs || argv.some((a) => FLAGS[a]))
const writeReadmeToo = has('--readme') || (!quick && !filtered && !has('--issue-sizes') && !has('--no-readme'))
const tty = process.stdout.isTTY && !has('--plain') && !process.env.CI
const log = (msg) => process.stdout.write(`${msg}\n`)

// ---- setup -----------------------------------------------------------------------------
fs.mkdirSync(TMP, { recursive: true })
fs.mkdirSync(RESULTS, { recursive: true })
if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js'))) {
  log('bench: dist/index.js is missing: run `npm run build` first (and `npm run build:native:release` for real numbers)')
  process.exit(1)
}
const deps = { ...ensureDeps(BENCH, log), ...ensurePython(BENCH, log) }
const native = snapshotNative(ROOT, TMP, value('--native') ?? process.env.STOWAGE_BENCH_NATIVE)
process.env.NAPI_RS_NATIVE_LIBRARY_PATH = native.path
const baseline = baselineDir ? openBaseline(baselineDir) : undefined
const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version
let commit = 'unknown'
try { commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim() } catch { /* not a git checkout: stays 'unknown' */ }
log(`stowage ${version} (${commit}), dist/ + native ${native.profile} build ${path.relative(ROOT, native.source)} [sha256 ${native.sha}, built ${native.mtime}]`)
if (native.profile !== 'release') log('  WARNING: a debug build: its numbers mean nothing. Run `npm run build:native:release` first.')
if (baseline) log(`baseline (stowage-baseline): ${baseline.commit} in ${baselineDir}, native ${baseline.native.profile} build [sha256 ${baseline.native.sha}]`)
const loadBefore = os.loadavg()
log(`node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model?.trim()}, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`)
log(`${quick ? 'quick run' : has('--issue-sizes') ? 'full run at the issue\'s sizes' : 'full run'}, ${cfg.runs} runs per row`)

const unavailable = {}
for (const peer of ['opendal', 'obstore']) if (!deps[peer]?.ok) unavailable[peer] = `not run: ${deps[peer]?.reason ?? 'not installed'}`

let servers
try {
  servers = await startServers({ only: ['s3mem'] }) // builds crates/s3-mem-server first when stale
} catch (e) {
  log(`bench: could not start the S3 server (crates/s3-mem-server):\n${e.message}`)
  process.exit(1)
}
const s3 = { ...servers.s3mem, kind: 's3' }
const serverPid = findServerPid(s3.endpoint) // its CPU is measured beside each S3 row's
const localDir = path.join(TMP, 'local')
const paths = { tmp: TMP, largeSource: path.join(TMP, 'source-large.bin'), smallSource: path.join(TMP, 'source-small.bin') }
const targets = { s3, local: { kind: 'local', dir: localDir }, memory: { kind: 'memory' } }

let exitCode = 0
try {
  await seed()
  const plan = WORKLOADS.filter((w) => !only || only.some((o) => w.id === o || w.id.startsWith(o)))
    .map((w) => ({ w, libs: w.libs.filter((l) => !onlyLibs || onlyLibs.includes(l) || l === 'stowage') }))
    .map(({ w, libs }) => ({ w, libs: baseline && libs.includes('stowage') ? [...libs, 'stowage-baseline'] : libs }))
  const samples = new Map() // `${workload}\t${lib}` -> [measurement]
  const total = plan.reduce((n, p) => n + p.libs.filter((l) => !unavailable[l]).length, 0) * cfg.runs
  const started = Date.now()
  const progress = await makeProgress(total)
  for (let round = 0; round < cfg.runs; round++) {
    for (const { w, libs } of plan) {
      const order = libs.map((_, i) => libs[(i + round) % libs.length]) // rotate: nobody always goes first
      for (const lib of order) {
        if (unavailable[lib]) continue
        progress.label(`round ${round + 1}/${cfg.runs} · ${w.id} · ${lib}`)
        const m = { ...(await measure(w, lib)), round }
        const k = `${w.id}\t${lib}`
        if (!samples.has(k)) samples.set(k, [])
        samples.get(k).push(m)
        progress.tick(m.error
          ? `round ${round + 1}/${cfg.runs} ${w.id} ${lib}: FAILED ${m.error.slice(0, 160)}`
          : `round ${round + 1}/${cfg.runs} ${w.id} ${lib}: ${fmtSample(w, m)}`)
      }
    }
  }
  progress.stop()
  const elapsed = (Date.now() - started) / 1000
  const loadAfter = os.loadavg()

  const rows = aggregate(plan, samples, cfg, unavailable)
  const meta = {
    date: new Date().toISOString(), quick, issueSizes: has('--issue-sizes'), cfg, commit, version, node: process.version,
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model?.trim()}`, memoryBytes: os.totalmem(),
    loadBefore, loadAfter, elapsedSeconds: elapsed, native: { profile: native.profile, sha: native.sha, source: path.relative(ROOT, native.source) },
    baseline: baseline && { commit: baseline.commit, dir: baselineDir, native: { profile: baseline.native.profile, sha: baseline.native.sha } },
    server: 'crates/s3-mem-server (in-memory, s3s 0.14) on 127.0.0.1', opendal: deps.opendal, obstore: deps.obstore,
    titles: Object.fromEntries(plan.map(({ w }) => [w.id, w.title(cfg)])),
  }
  const targetsReport = checkTargets(rows)
  const suffix = quick ? '-quick' : has('--issue-sizes') ? '-issue-sizes' : filtered ? '-partial' : ''
  fs.writeFileSync(path.join(RESULTS, `latest${suffix}.json`), JSON.stringify({ meta, targets: targetsReport, rows }, null, 2) + '\n')
  fs.writeFileSync(path.join(RESULTS, `ratios${suffix}.svg`), svg(rows, meta))
  const md = markdown(rows, meta, targetsReport, `ratios${suffix}.svg`)
  log('\n' + md)
  if (writeReadmeToo) {
    // The README is for users: a --baseline run's before/after rows stay in the console and the JSON.
    const userRows = rows.filter((r) => r.library !== 'stowage-baseline')
    writeReadme(path.join(ROOT, 'README.md'), baseline
      ? markdown(userRows, { ...meta, baseline: undefined }, checkTargets(userRows), `ratios${suffix}.svg`)
      : md)
    log('README.md Performance section updated')
  }
  log(`results: bench/results/latest${suffix}.json, bench/results/ratios${suffix}.svg (${Math.round(elapsed)} s)`)
} catch (e) {
  log(`bench failed: ${e.stack ?? e}`)
  exitCode = 1
} finally {
  await stopServers()
  fs.rmSync(localDir, { recursive: true, force: true })
  for (const f of [paths.largeSource, paths.smallSource]) fs.rmSync(f, { force: true })
}
process.exit(exitCode)

// ---- helpers ---------------------------------------------------------------------------
async function seed() {
  const t0 = Date.now()
  log('seeding fixtures (S3 objects, source files, local files) ...')
  const stowage = await import('../dist/index.js')
  const store = new stowage.S3Store({ bucket: s3.bucket, region: s3.region, endpoint: s3.endpoint,
    accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, allowHttp: true, virtualHostedStyle: false })
  const large = randomBytes(cfg.largeBytes, 11)
  fs.writeFileSync(paths.largeSource, large)
  await store.put('fixtures/large', large)
  const small = randomBytes(cfg.smallBytes, 13)
  fs.writeFileSync(paths.smallSource, small)
  await pool(10, 10, (i) => store.put(`fixtures/warm/${i}`, large.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024)))
  await pool(cfg.smallCount, 64, (i) => store.put(key('fixtures/small', i), small))
  await pool(cfg.listCount, 64, (i) => store.put(key('fixtures/list', i), 'x'))
  fs.rmSync(localDir, { recursive: true, force: true })
  fs.mkdirSync(path.join(localDir, 'fixtures', 'small'), { recursive: true })
  const four = randomBytes(cfg.localSmallBytes, 17)
  await pool(cfg.localSmallCount, 64, (i) => fs.promises.writeFile(path.join(localDir, key('fixtures/small', i)), four))
  const fd = fs.openSync(path.join(localDir, 'fixtures', 'large'), 'w')
  const chunk = randomBytes(8 * 1024 * 1024, 19)
  for (let left = cfg.localLargeBytes; left > 0; left -= chunk.length) fs.writeSync(fd, chunk, 0, Math.min(left, chunk.length))
  fs.closeSync(fd)
  log(`  done in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
}

function measure(w, lib) {
  const job = { workload: w.id, lib, cfg, target: targets[w.target], paths, serverPid: w.target === 's3' ? serverPid : null }
  const t0 = Date.now()
  const env = { ...process.env, NODE_OPTIONS: '' }
  if (lib === 'stowage-baseline') Object.assign(env, { NAPI_RS_NATIVE_LIBRARY_PATH: baseline.native.path, STOWAGE_BENCH_DIST: baseline.dist })
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(BENCH, 'worker.mjs'), JSON.stringify(job)], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env,
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => { out += d })
    child.stderr.on('data', (d) => { err += d })
    const timer = setTimeout(() => child.kill('SIGKILL'), cfg.timeoutSec * 1000)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '))
      if (line) return resolve({ ...JSON.parse(line.slice('BENCH_RESULT '.length)), processSeconds: (Date.now() - t0) / 1000 })
      resolve({ error: signal === 'SIGKILL' ? `timed out after ${cfg.timeoutSec} s` : `exit ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}` })
    })
  })
}

/** The checkout `--baseline` names: its built dist/ and a snapshot of its native/*.node. */
function openBaseline(dir) {
  const dist = path.join(dir, 'dist', 'index.js')
  if (!fs.existsSync(dist)) {
    log(`bench: --baseline ${dir} has no dist/index.js: build it there first (npm run build:ts, npm run build:native:release)`)
    process.exit(1)
  }
  let baseCommit = 'unknown'
  try { baseCommit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim() } catch { /* not a git checkout */ }
  return { dist, commit: baseCommit, native: snapshotNative(dir, TMP) }
}

function fmtSample(w, m) {
  const rate = m.bytes ? `${(m.bytes / 1e6 / m.seconds).toFixed(0)} MB/s` : `${(m.ops / m.seconds).toFixed(0)} ${w.unit}`
  return `${rate}, ${m.cpuSeconds?.toFixed(2) ?? '?'} s CPU, ${m.peakRssBytes ? Math.round(m.peakRssBytes / 2 ** 20) : '?'} MiB RSS (process ${m.processSeconds?.toFixed(1)} s)`
}

async function makeProgress(totalSteps) {
  let done = 0
  if (tty) {
    const { default: cliProgress } = await import('cli-progress')
    const bar = new cliProgress.SingleBar({ format: ' {bar} {value}/{total} | {eta_formatted} left | {label}', hideCursor: true,
      clearOnComplete: true, etaBuffer: 30 }, cliProgress.Presets.shades_classic)
    bar.start(totalSteps, 0, { label: '' })
    let current = ''
    return {
      label: (l) => { current = l; bar.update({ label: l }) },
      tick: (line) => { if (/FAILED/.test(line)) { bar.stop(); log(line); bar.start(totalSteps, done, { label: current }) } bar.increment(1, { label: current }); done++ },
      stop: () => bar.stop(),
    }
  }
  return {
    label: () => {},
    tick: (line) => { done++; log(`[${String(done).padStart(String(totalSteps).length)}/${totalSteps}] ${line}`) },
    stop: () => {},
  }
}
