// Many small objects at high concurrency, and obstore's headline: range reads of one object (at
// our concurrency, and at its own benchmark's).
import { S3_LIBS, S3_PUT_LIBS, key, pool, randomBytes, span, timedPool } from '../util.mjs'
import { curlMany } from '../limit.mjs'

const kib = (n) => `${n / 1024} KiB`

export default [
  {
    id: 's3-small-put',
    title: (cfg) => `S3 put ${kib(cfg.smallBytes)}, c${cfg.smallConcurrency} (${span(cfg.smallCount, cfg.minRunSeconds)})`,
    target: 's3', unit: 'ops/s', libs: S3_PUT_LIBS, concurrency: (cfg) => cfg.smallConcurrency,
    async prepare(ctx) { ctx.buf = randomBytes(ctx.cfg.smallBytes, 3) },
    warmup: (ctx) => pool(64, ctx.cfg.smallConcurrency, (i) => ctx.lib.putBytes(key(`put/${ctx.libName}/small-warm`, i), ctx.buf)),
    async run(ctx) {
      const ops = await timedPool(ctx.cfg.smallCount, ctx.cfg.minRunSeconds, ctx.cfg.smallConcurrency,
        (i) => ctx.lib.putBytes(key(`put/${ctx.libName}/small`, i), ctx.buf))
      return { ops }
    },
    limit: (ctx) => curlMany(ctx, { method: 'PUT', count: ctx.cfg.smallCount, concurrency: ctx.cfg.smallConcurrency,
      key: (i) => key('put/limit/small', i), file: ctx.paths.smallSource }),
  },
  {
    id: 's3-small-get',
    title: (cfg) => `S3 get ${kib(cfg.smallBytes)}, c${cfg.smallConcurrency} (${span(cfg.smallCount, cfg.minRunSeconds)})`,
    target: 's3', unit: 'ops/s', libs: S3_LIBS, concurrency: (cfg) => cfg.smallConcurrency,
    warmup: (ctx) => pool(64, ctx.cfg.smallConcurrency, (i) => ctx.lib.getBytes(key('fixtures/small', i))),
    async run(ctx) {
      const want = ctx.cfg.smallBytes
      const ops = await timedPool(ctx.cfg.smallCount, ctx.cfg.minRunSeconds, ctx.cfg.smallConcurrency, async (i) => {
        const n = await ctx.lib.getBytes(key('fixtures/small', i))
        if (n !== want) throw new Error(`got ${n} bytes, expected ${want}`)
      })
      return { ops }
    },
    limit: (ctx) => curlMany(ctx, { method: 'GET', count: ctx.cfg.smallCount, concurrency: ctx.cfg.smallConcurrency,
      key: (i) => key('fixtures/small', i) }),
  },
  rangeReads({ id: 's3-range', count: 'rangeCount', concurrency: 'rangeConcurrency',
    title: (cfg) => `S3 range reads of ${kib(cfg.rangeBytes)}, c${cfg.rangeConcurrency} (${span(cfg.rangeCount, cfg.minRunSeconds, 'reads at least')})` }),
  rangeReads({ id: 's3-range-cog', count: 'cogCount', concurrency: 'cogConcurrency',
    title: (cfg) => `S3 reads of the first ${kib(cfg.rangeBytes)}, c${cfg.cogConcurrency} (obstore's benchmark; ${span(cfg.cogCount, cfg.minRunSeconds, 'reads at least')})` }),
]

/**
 * `cfg[count]` reads of the first rangeBytes of one object, `cfg[concurrency]` in flight.
 * @param {{ id: string, count: string, concurrency: string, title: (cfg: any) => string }} shape
 */
function rangeReads({ id, count, concurrency, title }) {
  return {
    id, title,
    target: 's3', unit: 'ops/s', libs: S3_LIBS.filter((l) => l !== 'flydrive'), // flydrive has no range reads
    concurrency: (cfg) => cfg[concurrency],
    // As many reads as will be in flight, so every library's connection pool is open before
    // the timed run: 64 opened only 64 of c500's connections, and the run timed the rest's setup.
    warmup: (ctx) => pool(Math.max(64, ctx.cfg[concurrency]), ctx.cfg[concurrency],
      () => ctx.lib.getRange('fixtures/large', 0, ctx.cfg.rangeBytes)),
    async run(ctx) {
      const want = ctx.cfg.rangeBytes
      const ops = await timedPool(ctx.cfg[count], ctx.cfg.minRunSeconds, ctx.cfg[concurrency], async () => {
        const n = await ctx.lib.getRange('fixtures/large', 0, want)
        if (n !== want) throw new Error(`got ${n} bytes, expected ${want}`)
      })
      return { ops }
    },
    limit: (ctx) => curlMany(ctx, { method: 'GET', count: ctx.cfg[count], concurrency: ctx.cfg[concurrency],
      key: () => 'fixtures/large', range: `0-${ctx.cfg.rangeBytes - 1}` }),
  }
}
