// stowage, imported from the built package (dist/). The runner points NAPI_RS_NATIVE_LIBRARY_PATH
// at the snapshot of the native binary it measures, so one run never mixes two builds.
// STOWAGE_BENCH_DIST (set by the runner for `--baseline`, see libs/stowage-baseline.mjs) names
// another checkout's dist/index.js to measure instead.
import fs from 'node:fs'
import { pipeline } from 'node:stream/promises'
import { pathToFileURL } from 'node:url'
import { drain } from '../util.mjs'

/**
 * @param {import('../util.mjs').Target} target
 * @param {{ unsignedPayload?: boolean }} [options]
 */
export async function open(target, { unsignedPayload } = {}) {
  const stowage = await import(process.env.STOWAGE_BENCH_DIST ? pathToFileURL(process.env.STOWAGE_BENCH_DIST).href : '../../dist/index.js')
  let store
  if (target.kind === 's3') {
    store = new stowage.S3Store({
      bucket: target.bucket, region: target.region, endpoint: target.endpoint,
      accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey,
      allowHttp: true, virtualHostedStyle: false, ...(unsignedPayload ? { unsignedPayload } : {}),
    })
  } else if (target.kind === 'local') {
    store = new stowage.LocalStore(target.dir)
  } else {
    store = new stowage.MemoryStore()
  }
  return {
    putBytes: (k, buf) => store.put(k, buf),
    putStream: (k, readable) => store.put(k, readable),
    getBytes: async (k) => (await (await store.get(k)).bytes()).length,
    getToFile: (k, file) => pipeline(store.createReadStream(k), fs.createWriteStream(file)),
    getDrain: (k) => drain(store.createReadStream(k)),
    getRange: async (k, start, end) => (await store.getRange(k, start, end)).length,
    list: async (prefix) => {
      let n = 0
      for await (const _ of store.list(prefix)) n++
      return n
    },
    // the batch API: one call signs many URLs
    presign: async (keys) => {
      let n = 0
      for (let i = 0; i < keys.length; i += 1000) n += (await store.signUrls('GET', keys.slice(i, i + 1000), { expiresIn: 3600 })).length
      return n
    },
    // one URL per call
    presignEach: async (keys) => {
      let n = 0
      for (const k of keys) { await store.signUrl('GET', k, { expiresIn: 3600 }); n++ }
      return n
    },
    close: async () => {},
  }
}
