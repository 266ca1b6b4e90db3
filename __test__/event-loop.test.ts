/**
 * The work runs off the JavaScript thread: while a 512 MiB LocalStore put and
 * get run, the event loop's p99 delay stays under 20 ms.
 */
import { createHash, randomFillSync } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { expect, it } from 'vitest'
import { LocalStore } from '../src/index.js'

const MiB = 1024 * 1024

it('a 512 MiB put and get keep the event loop p99 under 20 ms', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-loop-'))
  try {
    const store = new LocalStore(dir)
    const data = randomFillSync(Buffer.allocUnsafe(512 * MiB))
    const expected = createHash('sha256').update(data).digest('hex')

    const monitor = monitorEventLoopDelay({ resolution: 1 })
    monitor.enable()
    await store.put('half-gig.bin', data)
    const back = await (await store.get('half-gig.bin')).bytes()
    monitor.disable()

    expect(createHash('sha256').update(back).digest('hex')).toBe(expected)
    const p99 = monitor.percentile(99) / 1e6
    console.log(`event loop delay during 512 MiB put+get: p99 ${p99.toFixed(2)} ms, max ${(monitor.max / 1e6).toFixed(2)} ms`)
    expect(p99).toBeLessThan(20)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}, 300_000)
