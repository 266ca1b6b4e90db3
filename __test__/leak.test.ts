/**
 * Nothing leaks and nothing lingers: 20 000 mixed operations (puts of buffers and streams,
 * every kind of read, lists, deletes, failures and aborts) on a MemoryStore and a LocalStore
 * grow the RSS after gc() by less than 50 MiB, and the process then exits by itself within
 * 2 s, so no promise, queue or handle of stowage keeps its event loop alive.
 *
 * It runs in a child process (leak-child.mjs): one started with --expose-gc, whose RSS
 * is its own and whose exit is the thing measured.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { bundleLibrary, lastJsonLine, runNode } from './fixtures/child-process.js'

const CHILD = fileURLToPath(new URL('./fixtures/leak-child.mjs', import.meta.url))
const MiB = 1024 * 1024

interface Report {
  operations: number
  counts: Record<string, number>
  rssBefore: number
  rssAfter: number
  lastOperationAt: number
  failures: string[]
}

let library: string
let scratch: string
beforeAll(async () => {
  library = await bundleLibrary('stowage-leak-test')
  scratch = await mkdtemp(join(tmpdir(), 'stowage-leak-'))
})
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true })
})

it('20 000 mixed operations leak under 50 MiB of RSS, and the process then exits by itself', async () => {
  const child = await runNode(CHILD, [library, scratch], { nodeArgs: ['--expose-gc'], timeoutMs: 55_000, afterReportMs: 10_000 })
  const context = `exit code ${child.code}, signal ${child.signal}, timed out: ${child.timedOut}\nstderr:\n${child.stderr.slice(-4000)}`
  expect(child.timedOut, context).toBe(false)
  expect(child.signal, context).toBeNull()
  expect(child.code, context).toBe(0)
  const report = lastJsonLine<Report>(child.stdout)
  expect(report.failures).toEqual([])

  expect(report.operations).toBe(20_000)
  for (const [kind, count] of Object.entries(report.counts)) expect(count, kind).toBeGreaterThan(1000)
  const growth = report.rssAfter - report.rssBefore
  console.log(`RSS after gc(): ${(report.rssBefore / MiB).toFixed(1)} MiB after the warm-up, ${(report.rssAfter / MiB).toFixed(1)} MiB after 20 000 operations; exited ${child.exitedAt - report.lastOperationAt} ms after the last`)
  expect(growth).toBeLessThan(50 * MiB)
  expect(child.exitedAt - report.lastOperationAt).toBeLessThan(2000)
})
