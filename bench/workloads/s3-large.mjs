// One large object up and down: from memory (a Buffer) and from/to a file stream.
import fs from 'node:fs'
import path from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { S3_LIBS, S3_PUT_LIBS, randomBytes } from '../util.mjs'
import { curlTransfer } from '../limit.mjs'

const MiB = 1024 * 1024
const size = (cfg) => `${Math.round(cfg.largeBytes / MiB)} MiB`

export default [
  {
    id: 's3-large-put-mem',
    title: (cfg) => `S3 put ${size(cfg)} from memory`,
    target: 's3', unit: 'MB/s', libs: S3_PUT_LIBS,
    async prepare(ctx) { ctx.buf = randomBytes(ctx.cfg.largeBytes, 7) },
    warmup: (ctx) => ctx.lib.putBytes(`put/${ctx.libName}/large-warm`, ctx.buf.subarray(0, MiB)),
    async run(ctx) {
      // the event loop's delay while the upload runs: a 1 ms timer's lateness, p99
      const h = monitorEventLoopDelay({ resolution: 1 })
      h.enable()
      await ctx.lib.putBytes(`put/${ctx.libName}/large`, ctx.buf)
      h.disable()
      return { bytes: ctx.cfg.largeBytes, eventLoopP99Ms: h.percentile(99) / 1e6 }
    },
    limit: (ctx) => curlTransfer(ctx, { method: 'PUT', key: 'put/limit/large', file: ctx.paths.largeSource, bytes: ctx.cfg.largeBytes }),
  },
  {
    id: 's3-large-put-file',
    title: (cfg) => `S3 put ${size(cfg)} from a file stream`,
    target: 's3', unit: 'MB/s', libs: S3_PUT_LIBS,
    warmup: (ctx) => ctx.lib.putStream(`put/${ctx.libName}/large-warm`, fs.createReadStream(ctx.paths.largeSource, { end: MiB - 1 })),
    async run(ctx) {
      await ctx.lib.putStream(`put/${ctx.libName}/large`, fs.createReadStream(ctx.paths.largeSource))
      return { bytes: ctx.cfg.largeBytes }
    },
    limit: (ctx) => curlTransfer(ctx, { method: 'PUT', key: 'put/limit/large', file: ctx.paths.largeSource, bytes: ctx.cfg.largeBytes }),
  },
  {
    id: 's3-large-get-mem',
    title: (cfg) => `S3 get ${size(cfg)} into memory`,
    target: 's3', unit: 'MB/s', libs: S3_LIBS,
    warmup: (ctx) => ctx.lib.getBytes('fixtures/warm/0'),
    async run(ctx) {
      const n = await ctx.lib.getBytes('fixtures/large')
      if (n !== ctx.cfg.largeBytes) throw new Error(`got ${n} bytes, expected ${ctx.cfg.largeBytes}`)
      return { bytes: n }
    },
    limit: (ctx) => curlTransfer(ctx, { method: 'GET', key: 'fixtures/large', out: '/dev/null', bytes: ctx.cfg.largeBytes }),
  },
  {
    id: 's3-large-get-file',
    title: (cfg) => `S3 get ${size(cfg)} to a file stream`,
    target: 's3', unit: 'MB/s', libs: S3_LIBS,
    async prepare(ctx) { ctx.out = path.join(ctx.paths.tmp, `download-${ctx.libName}.bin`) },
    warmup: (ctx) => ctx.lib.getToFile('fixtures/warm/0', ctx.out),
    async run(ctx) {
      await ctx.lib.getToFile('fixtures/large', ctx.out)
      const n = fs.statSync(ctx.out).size
      fs.rmSync(ctx.out)
      if (n !== ctx.cfg.largeBytes) throw new Error(`wrote ${n} bytes, expected ${ctx.cfg.largeBytes}`)
      return { bytes: n }
    },
    limit: (ctx) => curlTransfer(ctx, { method: 'GET', key: 'fixtures/large', out: path.join(ctx.paths.tmp, 'download-limit.bin'), bytes: ctx.cfg.largeBytes }),
  },
]
