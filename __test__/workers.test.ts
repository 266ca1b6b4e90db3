/**
 * stowage in worker threads, and workers terminated while their operations are in flight
 * (test runners terminate workers all the time). A settlement for an environment that is
 * going away must be dropped quietly: before, one reached a torn-down environment, got
 * `napi_pending_exception` back and a Rust panic aborted the whole process.
 *
 * All of it runs in a child process (workers-child.mjs), so such an abort fails this test
 * instead of taking vitest down.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { bundleLibrary, lastJsonLine, runNode } from './fixtures/child-process.js'

const CHILD = fileURLToPath(new URL('./fixtures/workers-child.mjs', import.meta.url))

interface Report {
  terminations: number
  moments: Record<string, number>
  workerRoundTrips: Array<Record<'memory' | 'local', string[]>>
  mainRoundTrips: number
  failures: string[]
}

let library: string
let scratch: string
beforeAll(async () => {
  library = await bundleLibrary('stowage-workers-test')
  scratch = await mkdtemp(join(tmpdir(), 'stowage-workers-'))
})
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true })
})

it('workers terminated mid-operation neither crash nor hang the process, and the library keeps working', async () => {
  const child = await runNode(CHILD, [library, scratch], { timeoutMs: 60_000 })
  const context = `exit code ${child.code}, signal ${child.signal}, timed out: ${child.timedOut}\nstderr:\n${child.stderr.slice(-4000)}`
  expect(child.timedOut, context).toBe(false)
  expect(child.signal, context).toBeNull()
  const report = lastJsonLine<Report>(child.stdout)
  expect(report.failures, context).toEqual([])
  expect(child.code, context).toBe(0)

  expect(report.terminations).toBeGreaterThanOrEqual(30)
  expect(Object.keys(report.moments).sort()).toEqual([
    'after a short delay', 'during a big upload', 'many promises in flight', 'mid-stream', 'ops just launched', 'right after starting',
  ])
  // Two workers at once before the terminations and two after, each checking both stores.
  const expectedChecks = ['put+get', 'put(Readable)+createReadStream', 'createWriteStream+head+get', 'list']
  expect(report.workerRoundTrips).toEqual(Array(4).fill({ memory: expectedChecks, local: expectedChecks }))
  expect(report.mainRoundTrips).toBeGreaterThan(2)
})
