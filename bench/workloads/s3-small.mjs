// Many small objects at high concurrency, and obstore's headline: range reads of one object.
import { key, pool, randomBytes } from '../util.mjs'
import { curlMany } from '../limit.mjs'

const LIBS = ['stowage', 'aws-sdk', 'aws-sdk-tuned', 'flydrive', 'opendal', 'limit']
const kib = (n) => `${n / 1024} KiB`

export default [
  {
    id: 's3-small-put',
    title: (cfg) => `S3 put ${cfg.smallCount} × ${kib(cfg.smallBytes)}, c${cfg.smallConcurrency}`,
    target: 's3', unit: 'ops/s', libs: LIBS, concurrency: (cfg) => cfg.smallConcurrency,
    async prepare(ctx) { ctx.buf = randomBytes(ctx.cfg.smallBytes, 3) },
    warmup: (ctx) => pool(64, ctx.cfg.smallConcurrency, (i) => ctx.lib.putBytes(key(`put/${ctx.libName}/small-warm`, i), ctx.buf)),
    async run(ctx) {
      await pool(ctx.cfg.smallCount, ctx.cfg.smallConcurrency, (i) => ctx.lib.putBytes(key(`put/${ctx.libName}/small`, i), ctx.buf))
      return { ops: ctx.cfg.smallCount }
    },
    limit: (ctx) => curlMany(ctx, { method: 'PUT', count: ctx.cfg.smallCount, concurrency: ctx.cfg.smallConcurrency,
      key: (i) => key('put/limit/small', i), file: ctx.paths.smallSource }),
  },
  {
    id: 's3-small-get',
    title: (cfg) => `S3 get ${cfg.smallCount} × ${kib(cfg.smallBytes)}, c${cfg.smallConcurrency}`,
    target: 's3', unit: 'ops/s', libs: LIBS, concurrency: (cfg) => cfg.smallConcurrency,
    warmup: (ctx) => pool(64, ctx.cfg.smallConcurrency, (i) => ctx.lib.getBytes(key('fixtures/small', i))),
    async run(ctx) {
      const want = ctx.cfg.smallBytes
      await pool(ctx.cfg.smallCount, ctx.cfg.smallConcurrency, async (i) => {
        const n = await ctx.lib.getBytes(key('fixtures/small', i))
        if (n !== want) throw new Error(`got ${n} bytes, expected ${want}`)
      })
      return { ops: ctx.cfg.smallCount }
    },
    limit: (ctx) => curlMany(ctx, { method: 'GET', count: ctx.cfg.smallCount, concurrency: ctx.cfg.smallConcurrency,
      key: (i) => key('fixtures/small', i) }),
  },
  {
    id: 's3-range',
    title: (cfg) => `S3 ${cfg.rangeCount} range reads of ${kib(cfg.rangeBytes)}, c${cfg.rangeConcurrency}`,
    target: 's3', unit: 'ops/s', libs: LIBS.filter((l) => l !== 'flydrive'), // flydrive has no range reads
    concurrency: (cfg) => cfg.rangeConcurrency,
    warmup: (ctx) => pool(64, ctx.cfg.rangeConcurrency, () => ctx.lib.getRange('fixtures/large', 0, ctx.cfg.rangeBytes)),
    async run(ctx) {
      const want = ctx.cfg.rangeBytes
      await pool(ctx.cfg.rangeCount, ctx.cfg.rangeConcurrency, async () => {
        const n = await ctx.lib.getRange('fixtures/large', 0, want)
        if (n !== want) throw new Error(`got ${n} bytes, expected ${want}`)
      })
      return { ops: ctx.cfg.rangeCount }
    },
    limit: (ctx) => curlMany(ctx, { method: 'GET', count: ctx.cfg.rangeCount, concurrency: ctx.cfg.rangeConcurrency,
      key: () => 'fixtures/large', range: `0-${ctx.cfg.rangeBytes - 1}` }),
  },
]
