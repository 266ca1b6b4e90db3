// Local disk: many small files, one large file streamed in and out, and one large Buffer put
// and read back whole. `node:fs-atomic` writes as LocalStore does (temporary file, then rename:
// the same guarantee); `node:fs` is plain `writeFile`, which a reader may see half-written.
import fs from 'node:fs'
import path from 'node:path'
import { generated, key, pool, randomBytes, span, timedPool } from '../util.mjs'

const LIBS = ['stowage', 'node:fs-atomic', 'node:fs', 'flydrive', 'opendal', 'obstore']
const clean = (ctx) => fs.rmSync(path.join(ctx.target.dir, 'put', ctx.libName), { recursive: true, force: true })
const MiB = 1024 * 1024

export default [
  {
    id: 'local-small-put',
    title: (cfg) => `local put ${cfg.localSmallBytes / 1024} KiB files, c${cfg.localConcurrency} (${span(cfg.localSmallCount, cfg.minRunSeconds)})`,
    target: 'local', unit: 'ops/s', libs: LIBS,
    async prepare(ctx) { clean(ctx); ctx.buf = randomBytes(ctx.cfg.localSmallBytes, 5) },
    warmup: (ctx) => pool(64, ctx.cfg.localConcurrency, (i) => ctx.lib.putBytes(key(`put/${ctx.libName}/small-warm`, i), ctx.buf)),
    async run(ctx) {
      const ops = await timedPool(ctx.cfg.localSmallCount, ctx.cfg.minRunSeconds, ctx.cfg.localConcurrency,
        (i) => ctx.lib.putBytes(key(`put/${ctx.libName}/small`, i), ctx.buf))
      return { ops }
    },
  },
  {
    id: 'local-small-get',
    title: (cfg) => `local get ${cfg.localSmallBytes / 1024} KiB files, c${cfg.localConcurrency} (${span(cfg.localSmallCount, cfg.minRunSeconds)})`,
    target: 'local', unit: 'ops/s', libs: LIBS,
    warmup: (ctx) => pool(64, ctx.cfg.localConcurrency, (i) => ctx.lib.getBytes(key('fixtures/small', i))),
    async run(ctx) {
      const want = ctx.cfg.localSmallBytes
      const ops = await timedPool(ctx.cfg.localSmallCount, ctx.cfg.minRunSeconds, ctx.cfg.localConcurrency, async (i) => {
        const n = await ctx.lib.getBytes(key('fixtures/small', i))
        if (n !== want) throw new Error(`got ${n} bytes, expected ${want}`)
      })
      return { ops }
    },
  },
  {
    id: 'local-large-put',
    title: (cfg) => `local put ${cfg.localLargeBytes / MiB} MiB (stream)`,
    target: 'local', unit: 'MB/s', libs: LIBS,
    async prepare(ctx) { clean(ctx) },
    warmup: (ctx) => ctx.lib.putStream(`put/${ctx.libName}/large-warm`, generated(MiB)),
    async run(ctx) {
      await ctx.lib.putStream(`put/${ctx.libName}/large`, generated(ctx.cfg.localLargeBytes))
      const n = fs.statSync(path.join(ctx.target.dir, 'put', ctx.libName, 'large')).size
      if (n !== ctx.cfg.localLargeBytes) throw new Error(`wrote ${n} bytes, expected ${ctx.cfg.localLargeBytes}`)
      return { bytes: n }
    },
  },
  {
    id: 'local-buffer-put-get',
    title: (cfg) => `local put + get ${cfg.localBufferBytes / MiB} MiB (Buffer)`,
    target: 'local', unit: 'MB/s', libs: LIBS,
    async prepare(ctx) { clean(ctx); ctx.buf = randomBytes(ctx.cfg.localBufferBytes, 11) },
    warmup: (ctx) => ctx.lib.putBytes(`put/${ctx.libName}/buffer-warm`, ctx.buf.subarray(0, MiB)),
    async run(ctx) {
      const k = `put/${ctx.libName}/buffer`
      await ctx.lib.putBytes(k, ctx.buf)
      const n = await ctx.lib.getBytes(k)
      if (n !== ctx.buf.length) throw new Error(`read ${n} bytes back, expected ${ctx.buf.length}`)
      return { bytes: n }
    },
  },
  {
    id: 'local-large-get',
    title: (cfg) => `local get ${cfg.localLargeBytes / MiB} MiB (stream)`,
    target: 'local', unit: 'MB/s', libs: LIBS,
    warmup: (ctx) => ctx.lib.getDrain(key('fixtures/small', 0)),
    async run(ctx) {
      const n = await ctx.lib.getDrain('fixtures/large')
      if (n !== ctx.cfg.localLargeBytes) throw new Error(`read ${n} bytes, expected ${ctx.cfg.localLargeBytes}`)
      return { bytes: n }
    },
  },
]
