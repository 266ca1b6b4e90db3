// One measurement in a fresh process: node bench/worker.mjs '<json job>'.
// Prepares (unmeasured), warms up, then measures wall time, process CPU (user + system, every
// thread: Rust's too), the process's peak RSS and, for S3 rows, the S3 server's CPU over the
// same span (job.serverPid); prints one line `BENCH_RESULT <json>`.
import { performance } from 'node:perf_hooks'
import { peakRssBytes } from './peak-rss.mjs'
import { cpuSecondsFrom } from './server-cpu.mjs'
import { byId } from './workloads/index.mjs'

const job = JSON.parse(process.argv[2])
const wl = byId(job.workload)
const ctx = { cfg: job.cfg, target: job.target, paths: job.paths, libName: job.lib }

try {
  let measured
  if (job.lib === 'limit') {
    await wl.limit(ctx) // warm-up: same requests once (also warms the server)
    const serverCpu = cpuSecondsFrom(job.serverPid)
    const t0 = performance.now()
    const r = await wl.limit(ctx)
    measured = { seconds: (performance.now() - t0) / 1e3, serverCpuSeconds: serverCpu(), ...r }
  } else {
    const mod = await import(`./libs/${job.lib.replace(/^node:/, '')}.mjs`) // node:fs -> libs/fs.mjs
    // a peer in another language (libs/obstore.mjs) runs these same phases in its own process
    // and times its own loop, so the pipe to it is not in the measurement
    measured = mod.measure ? await mod.measure(job) : await measureHere(mod)
  }
  process.stdout.write(`BENCH_RESULT ${JSON.stringify(measured)}\n`)
  process.exit(0)
} catch (err) {
  process.stdout.write(`BENCH_RESULT ${JSON.stringify({ error: String(err?.stack ?? err).split('\n').slice(0, 3).join(' | ') })}\n`)
  process.exit(1)
}

/** Opens the adapter, prepares, warms up, then times the workload's run in this process. */
async function measureHere(mod) {
  const concurrency = wl.concurrency?.(job.cfg) ?? 64
  ctx.lib = await mod.open(job.target, { concurrency })
  await wl.prepare?.(ctx)
  await wl.warmup?.(ctx)
  const serverCpu = cpuSecondsFrom(job.serverPid)
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const r = await wl.run(ctx)
  const seconds = (performance.now() - t0) / 1e3
  const cpu = process.cpuUsage(c0)
  const serverCpuSeconds = serverCpu()
  await ctx.lib.close?.()
  return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, serverCpuSeconds, peakRssBytes: peakRssBytes(), ...r }
}
