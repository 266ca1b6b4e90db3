// Small helpers shared by the workloads and the adapters.
import { performance } from 'node:perf_hooks'
import { Readable } from 'node:stream'

/**
 * Where a workload's requests go (bench/run.mjs's `targets`): the S3 server (its connection
 * details), a local directory, or memory.
 * @typedef {object} Target
 * @property {'s3' | 'local' | 'memory'} kind
 * @property {string} [endpoint]
 * @property {string} [region]
 * @property {string} [bucket]
 * @property {string} [accessKeyId]
 * @property {string} [secretAccessKey]
 * @property {string} [dir] the local target's directory
 */

/**
 * A measured run of many small operations: fn(i % n) with at most `concurrency` in flight, n
 * calls at least and more until `minSeconds` have passed since the start; returns how many
 * calls ran. The fast libraries finish 5000 operations in under half a second, too short a
 * span for one fresh process to tell a 1.2x difference from noise (issue 12), while the AWS
 * SDK's 5000 already last 5 s: a time floor lengthens the first without the second.
 * @param {number} n the keys (or calls) the workload names; the calls go round them
 * @param {number} minSeconds 0 for exactly n calls
 * @param {number} concurrency
 * @param {(i: number) => Promise<unknown>} fn
 * @returns {Promise<number>} the calls made
 */
export async function timedPool(n, minSeconds, concurrency, fn) {
  const end = performance.now() + minSeconds * 1e3
  let next = 0
  const worker = async () => {
    while (next < n || performance.now() < end) {
      const i = next++
      await fn(i % n)
    }
  }
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker))
  return next
}

/**
 * The part of a small-operation row's title that says how long it runs (timedPool): `5000
 * keys`, or `5000 keys, ≥ 2 s` when the calls go round the keys until 2 s have passed.
 * @param {number} n
 * @param {number} minSeconds
 * @param {string} [noun] what n counts
 */
export const span = (n, minSeconds, noun = 'keys') => `${n} ${noun}${minSeconds ? `, ≥ ${minSeconds} s` : ''}`

/** Runs fn(i) for i in [0, n) with at most `concurrency` in flight: timedPool with no time floor. */
export async function pool(n, concurrency, fn) {
  await timedPool(n, 0, concurrency, fn)
}

/** Consumes a Node Readable, a web ReadableStream or an async iterable; returns the byte count. */
export async function drain(stream) {
  let n = 0
  for await (const chunk of stream) n += chunk.length
  return n
}

/** A Readable of `total` bytes made of one reused 1 MiB chunk (no allocation per chunk). */
export function generated(total, chunkSize = 1024 * 1024) {
  const chunk = Buffer.alloc(chunkSize, 0x61)
  let left = total
  return new Readable({
    highWaterMark: chunkSize,
    read() {
      if (left <= 0) return this.push(null)
      const n = Math.min(left, chunkSize)
      left -= n
      this.push(n === chunkSize ? chunk : chunk.subarray(0, n))
    },
  })
}

/** Deterministic pseudo-random bytes (fast, not crypto): a 1 MiB block, repeated. */
export function randomBytes(size, seed = 1) {
  const block = Buffer.allocUnsafe(Math.min(size, 1024 * 1024))
  let x = seed >>> 0 || 1
  let i = 0
  for (; i + 4 <= block.length; i += 4) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5
    block.writeUInt32LE(x >>> 0, i)
  }
  for (; i < block.length; i++) block[i] = i & 0xff
  if (size <= block.length) return block
  const buf = Buffer.allocUnsafe(size)
  for (let o = 0; o < size; o += block.length) block.copy(buf, o, 0, Math.min(block.length, size - o))
  return buf
}

export const key = (prefix, i) => `${prefix}/${String(i).padStart(6, '0')}`

/** The libraries each S3 row measures. */
export const S3_LIBS = ['stowage', 'aws-sdk', 'aws-sdk-tuned', 'flydrive', 'opendal', 'obstore', 'limit']

/**
 * The S3 put rows' libraries: stowage also with its HTTPS default, bodies not hashed into the
 * signature, as OpenDAL always sends them (over the bench's plain HTTP the hash was a seventh
 * of a small put's CPU), so that those rows also compare like with like.
 */
export const S3_PUT_LIBS = ['stowage', 'stowage-unsigned', ...S3_LIBS.slice(1)]
