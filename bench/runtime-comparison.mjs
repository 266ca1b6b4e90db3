#!/usr/bin/env node
// Our promise runtime (crates/stowage-node/src/runtime/promise.rs) against napi-rs's own ways of
// running the same operation, in one process, interleaved round by round: the bench's small
// rows (put, get and head of 16 KiB objects at concurrency 64) on a MemoryStore and on the S3
// server of servers/ (crates/s3-mem-server).
//
//   cargo build --profile profiling -p stowage-node --features runtime-comparison
//   NAPI_RS_NATIVE_LIBRARY_PATH=target/profiling/libstowage_node.so node bench/runtime-comparison.mjs
//
// (or `node scripts/build-native.mjs --release --features runtime-comparison`, then restore
// native/index.{cjs,d.ts} with git). The variants, all calling the very future the public
// method runs (see runtime/comparison.rs):
//   ours        store.head(k)                      one threadsafe function per environment,
//                                                  MemoryStore polled inline first
//   asyncFn     store.__headAsyncFn(k)             #[napi] async fn (napi-rs's tokio runtime)
//   asyncTask   store.__headAsyncTask(k)           AsyncTask (libuv's pool, block_on)
//   tsfn        store.__headTsfn(k, callback)      spawned on tokio, a ThreadsafeFunction
//                                                  per call calls back; wrapped in a promise
// Options: --count N (operations per measurement, default 5000), --rounds N (default 7),
// --concurrency N (64), --kib N (16), --only memory|s3.
import { createRequire } from 'node:module'
import os from 'node:os'
import { performance } from 'node:perf_hooks'
import { startServers, stopServers } from '../servers/index.mjs'
import { key, pool, randomBytes } from './util.mjs'

const argv = process.argv.slice(2)
const option = (name, fallback) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : fallback }
const count = Number(option('--count', 5000))
const rounds = Number(option('--rounds', 7))
const concurrency = Number(option('--concurrency', 64))
const bytes = Number(option('--kib', 16)) * 1024
const only = option('--only')

const native = createRequire(import.meta.url)('../native/index.cjs')
if (typeof native.NativeStore.prototype.__headAsyncFn !== 'function') {
  console.error('this addon has no comparison methods: build it with `--features runtime-comparison` (see the top of this file)')
  process.exit(1)
}

/** @param {(done: (err: unknown, value: unknown) => void) => void} start */
const callback = (start) => new Promise((resolve, reject) => start((err, value) => (err ? reject(err) : resolve(value))))
/** @type {Record<string, Record<string, (s: any, k: string, buf: Buffer) => Promise<unknown>>>} */
const VARIANTS = {
  head: {
    ours: (s, k) => s.head(k),
    asyncFn: (s, k) => s.__headAsyncFn(k),
    asyncTask: (s, k) => s.__headAsyncTask(k),
    tsfn: (s, k) => callback((done) => s.__headTsfn(k, done)),
  },
  get: {
    ours: (s, k) => s.get(k),
    asyncFn: (s, k) => s.__getAsyncFn(k),
    asyncTask: (s, k) => s.__getAsyncTask(k),
    tsfn: (s, k) => callback((done) => s.__getTsfn(k, done)),
  },
  put: {
    ours: (s, k, buf) => s.put(k, buf),
    asyncFn: (s, k, buf) => s.__putAsyncFn(k, buf),
    asyncTask: (s, k, buf) => s.__putAsyncTask(k, buf),
    tsfn: (s, k, buf) => callback((done) => s.__putTsfn(k, buf, done)),
  },
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2 }
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ')

async function measure(store, op, variant, buf) {
  const run = VARIANTS[op][variant]
  const check = op === 'get'
    ? async (i) => { const r = /** @type {any} */ (await run(store, key('small', i), buf)); if (r.body.length !== bytes) throw new Error(`${variant}: got ${r.body.length} bytes`) }
    : (i) => run(store, key(op === 'put' ? `put-${variant}` : 'small', i), buf)
  const t0 = performance.now()
  await pool(count, concurrency, check)
  return count / ((performance.now() - t0) / 1e3)
}

async function compare(name, store) {
  const buf = randomBytes(bytes, 7)
  await pool(count, concurrency, (i) => store.put(key('small', i), buf))
  const variants = Object.keys(VARIANTS.head)
  /** @type {Record<string, number[]>} */
  const rates = {}
  for (const op of Object.keys(VARIANTS)) for (const v of variants) await measure(store, op, v, buf) // warm-up
  for (let r = 0; r < rounds; r++) {
    for (const op of Object.keys(VARIANTS)) {
      const order = variants.slice(r % variants.length).concat(variants.slice(0, r % variants.length))
      for (const v of order) (rates[`${op}\t${v}`] ??= []).push(await measure(store, op, v, buf))
    }
  }
  console.log(`\n${name}: ${count} × ${bytes / 1024} KiB, c${concurrency}, median of ${rounds} interleaved rounds (ops/s; ours ÷ it)`)
  console.log(`${'op'.padEnd(6)}${variants.map((v) => v.padStart(18)).join('')}`)
  for (const op of Object.keys(VARIANTS)) {
    const ours = median(rates[`${op}\tours`])
    const cells = variants.map((v) => {
      const m = median(rates[`${op}\t${v}`])
      return (v === 'ours' ? `${m.toFixed(0)}` : `${m.toFixed(0)} (${(ours / m).toFixed(2)}×)`).padStart(18)
    })
    console.log(`${op.padEnd(6)}${cells.join('')}`)
  }
}

console.log(`node ${process.version}, ${os.cpus().length} cpus, load average ${load()}`)
if (!only || only === 'memory') await compare('MemoryStore', native.NativeStore.memory())
if (!only || only === 's3') {
  const { s3mem } = await startServers({ only: ['s3mem'] })
  try {
    const { endpoint, region, bucket, accessKeyId, secretAccessKey } = s3mem
    await compare('S3 (s3-mem-server)', native.NativeStore.s3({ endpoint, region, bucket, accessKeyId, secretAccessKey, allowHttp: true, virtualHostedStyle: false }))
  } finally {
    await stopServers()
  }
}
console.log(`\nload average after: ${load()}`)
