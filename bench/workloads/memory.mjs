// In memory: stowage's MemoryStore against a Map (the floor), OpenDAL's memory service and
// obstore's MemoryStore.
import { key, pool, randomBytes, span, timedPool } from '../util.mjs'

const LIBS = ['stowage', 'map', 'opendal', 'obstore']

export default [
  {
    id: 'memory-small-put',
    title: (cfg) => `memory put ${cfg.smallBytes / 1024} KiB, c${cfg.smallConcurrency} (${span(cfg.smallCount, cfg.minRunSeconds)})`,
    target: 'memory', unit: 'ops/s', libs: LIBS,
    async prepare(ctx) { ctx.buf = randomBytes(ctx.cfg.smallBytes, 9) },
    warmup: (ctx) => pool(64, ctx.cfg.smallConcurrency, (i) => ctx.lib.putBytes(key('warm', i), ctx.buf)),
    async run(ctx) {
      const ops = await timedPool(ctx.cfg.smallCount, ctx.cfg.minRunSeconds, ctx.cfg.smallConcurrency,
        (i) => ctx.lib.putBytes(key('small', i), ctx.buf))
      return { ops }
    },
  },
  {
    id: 'memory-small-get',
    title: (cfg) => `memory get ${cfg.smallBytes / 1024} KiB, c${cfg.smallConcurrency} (${span(cfg.smallCount, cfg.minRunSeconds)})`,
    target: 'memory', unit: 'ops/s', libs: LIBS,
    async prepare(ctx) {
      const buf = randomBytes(ctx.cfg.smallBytes, 9)
      await pool(ctx.cfg.smallCount, ctx.cfg.smallConcurrency, (i) => ctx.lib.putBytes(key('small', i), buf))
    },
    warmup: (ctx) => pool(64, ctx.cfg.smallConcurrency, (i) => ctx.lib.getBytes(key('small', i))),
    async run(ctx) {
      const ops = await timedPool(ctx.cfg.smallCount, ctx.cfg.minRunSeconds, ctx.cfg.smallConcurrency,
        (i) => ctx.lib.getBytes(key('small', i)))
      return { ops }
    },
  },
]
