// Listing and presigning.
import { key } from '../util.mjs'

export default [
  {
    id: 's3-list',
    title: (cfg) => `S3 list ${cfg.listCount} keys`,
    target: 's3', unit: 'keys/s', libs: ['stowage', 'aws-sdk', 'flydrive', 'opendal'],
    warmup: (ctx) => ctx.lib.list('fixtures/warm'),
    async run(ctx) {
      const n = await ctx.lib.list('fixtures/list')
      if (n !== ctx.cfg.listCount) throw new Error(`listed ${n} keys, expected ${ctx.cfg.listCount}`)
      return { ops: n }
    },
  },
  {
    id: 'presign',
    title: (cfg) => `presign ${cfg.presignCount} GET URLs`,
    target: 's3', unit: 'ops/s', libs: ['stowage', 'stowage-signurl', 'aws-sdk', 'flydrive', 'opendal'],
    async prepare(ctx) { ctx.keys = Array.from({ length: ctx.cfg.presignCount }, (_, i) => key('fixtures/small', i)) },
    warmup: (ctx) => ctx.lib.presign(ctx.keys.slice(0, 1000)),
    async run(ctx) {
      const n = await ctx.lib.presign(ctx.keys)
      if (n !== ctx.keys.length) throw new Error(`signed ${n} URLs, expected ${ctx.keys.length}`)
      return { ops: n }
    },
  },
]
