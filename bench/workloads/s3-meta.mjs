// Listing and presigning.
import { key } from '../util.mjs'

export default [
  {
    id: 's3-list',
    title: (cfg) => `S3 list ${cfg.listCount} keys (${cfg.listRounds} listings)`,
    target: 's3', unit: 'keys/s', libs: ['stowage', 'aws-sdk', 'flydrive', 'opendal', 'obstore'],
    warmup: (ctx) => ctx.lib.list('fixtures/list'),
    async run(ctx) {
      for (let round = 0; round < ctx.cfg.listRounds; round++) {
        const n = await ctx.lib.list('fixtures/list')
        if (n !== ctx.cfg.listCount) throw new Error(`listed ${n} keys, expected ${ctx.cfg.listCount}`)
      }
      return { ops: ctx.cfg.listCount * ctx.cfg.listRounds }
    },
  },
  presigning({ id: 'presign', method: 'presign', libs: ['stowage', 'aws-sdk', 'flydrive', 'opendal', 'obstore'],
    title: (cfg) => `presign ${cfg.presignCount} GET URLs` }),
  presigning({ id: 'presign-one', method: 'presignEach', libs: ['stowage', 'opendal', 'obstore'],
    title: (cfg) => `presign ${cfg.presignCount} GET URLs, one call each` }),
]

/**
 * Presigning presignCount GET URLs with the adapter's `presign` (stowage and obstore: their batch
 * call; the others have none and sign one URL a call) or `presignEach` (one URL a call, all).
 * @param {{ id: string, method: 'presign' | 'presignEach', libs: string[], title: (cfg: any) => string }} shape
 */
function presigning({ id, method, libs, title }) {
  return {
    id, title, target: 's3', unit: 'ops/s', libs,
    async prepare(ctx) { ctx.keys = Array.from({ length: ctx.cfg.presignCount }, (_, i) => key('fixtures/small', i)) },
    // The whole run once: a JIT (V8's, for the JavaScript peers) settles only after thousands
    // of calls, and a short warm-up measured its tier-up rather than the signer.
    warmup: (ctx) => ctx.lib[method](ctx.keys),
    async run(ctx) {
      const n = await ctx.lib[method](ctx.keys)
      if (n !== ctx.keys.length) throw new Error(`signed ${n} URLs, expected ${ctx.keys.length}`)
      return { ops: n }
    },
  }
}
