// Python's obstore (PyPI, pinned in config.mjs BENCH_PY_DEPS; in the virtualenv setup.mjs makes).
// Not an adapter of the small interface: a Python library cannot be called from here op by op
// without the pipe's cost landing in the timed loop. So this runs the whole measurement in
// libs/obstore_worker.py, which runs the same workload with asyncio and times its own loop;
// this side sends it the phases as JSON lines (open, prepare, warmup, run, close) and returns
// what its `run` measured: wall time, CPU and peak RSS of the Python process, with the S3
// server's CPU over that phase (read here around it: the two pipe messages add microseconds).
import { spawn } from 'node:child_process'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { cpuSecondsFrom } from '../server-cpu.mjs'
import { venvPython } from '../setup.mjs'

const LIBS = path.dirname(fileURLToPath(import.meta.url))

/**
 * One measurement of `job` (bench/worker.mjs's job: workload id, cfg, target, paths, and the
 * S3 server's pid on S3 rows).
 * @param {{ workload: string, cfg: object, target: import('../util.mjs').Target, paths: object, serverPid?: number | null }} job
 * @returns {Promise<object>} the `run` phase's measurement (seconds, cpuSeconds, serverCpuSeconds, peakRssBytes, ops or bytes)
 */
export async function measure(job) {
  const child = spawn(venvPython(path.dirname(LIBS)), ['-u', path.join(LIBS, 'obstore_worker.py')], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (d) => { stderr += d })
  const exited = new Promise((resolve) => child.on('close', resolve))
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const call = async (message) => {
    child.stdin.write(`${JSON.stringify(message)}\n`)
    const { value, done } = await lines.next()
    if (done) throw new Error(`obstore_worker.py exited with ${await exited}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`)
    const reply = JSON.parse(value)
    if (!reply.ok) throw new Error(`obstore: ${reply.error}`)
    return reply.result
  }
  try {
    await call({ cmd: 'open', job })
    await call({ cmd: 'prepare' })
    await call({ cmd: 'warmup' })
    const serverCpu = cpuSecondsFrom(job.serverPid)
    const measured = await call({ cmd: 'run' })
    const serverCpuSeconds = serverCpu()
    await call({ cmd: 'close' })
    return { ...measured, serverCpuSeconds }
  } catch (e) {
    child.kill()
    throw e
  } finally {
    child.stdin.end()
    await exited
  }
}
