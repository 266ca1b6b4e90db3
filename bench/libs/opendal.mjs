// Apache OpenDAL's Node binding, from bench/.deps (pinned; see config.mjs BENCH_DEPS).
// Multipart writes use the same part size and concurrency as stowage's defaults.
import fs from 'node:fs'
import { createRequire } from 'node:module'
import { pipeline } from 'node:stream/promises'
import { drain } from '../util.mjs'

const require = createRequire(new URL('../.deps/package.json', import.meta.url))
const CHUNK = 5 * 1024 * 1024
const CONCURRENT = 8

export async function open(target) {
  // the runner points this at stowage's binary; napi-rs loaders all honour it, opendal's too
  delete process.env.NAPI_RS_NATIVE_LIBRARY_PATH
  const { Operator } = require('opendal')
  let op
  if (target.kind === 's3') {
    op = new Operator('s3', {
      bucket: target.bucket, region: target.region, endpoint: target.endpoint,
      access_key_id: target.accessKeyId, secret_access_key: target.secretAccessKey,
      root: '/', disable_config_load: 'true', disable_ec2_metadata: 'true',
    })
  } else if (target.kind === 'local') {
    op = new Operator('fs', { root: target.dir })
  } else {
    op = new Operator('memory', {})
  }
  const presignEach = async (keys) => {
    let n = 0
    for (const k of keys) { await op.presignRead(k, 3600); n++ }
    return n
  }
  const big = (n) => (n > CHUNK ? { chunk: BigInt(CHUNK), concurrent: CONCURRENT } : undefined)
  return {
    putBytes: (k, buf) => op.write(k, buf, big(buf.length)),
    putStream: async (k, readable) => {
      const w = await op.writer(k, { chunk: BigInt(CHUNK), concurrent: CONCURRENT })
      await pipeline(readable, w.createWriteStream())
    },
    getBytes: async (k) => (await op.read(k)).length,
    getToFile: async (k, file) => pipeline((await op.reader(k)).createReadStream(), fs.createWriteStream(file)),
    getDrain: async (k) => drain((await op.reader(k)).createReadStream()),
    getRange: async (k, start, end) => (await op.read(k, { offset: BigInt(start), size: BigInt(end - start) })).length,
    list: async (prefix) => {
      const lister = await op.lister(`${prefix}/`, { recursive: true })
      let n = 0
      for (let e = await lister.next(); e !== null; e = await lister.next()) if (!e.path().endsWith('/')) n++
      return n
    },
    presign: presignEach, // OpenDAL has no batch form
    presignEach,
    close: async () => {},
  }
}
