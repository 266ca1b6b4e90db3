/**
 * Streaming never buffers a whole object: 1 GiB through a LocalStore and back
 * keeps this process's peak RSS under 300 MiB. Vitest runs each file in its own
 * process, so the peak measured here is this file's alone.
 */
import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { expect, it } from 'vitest'
import { LocalStore } from '../src/index.js'
import { randomReadable } from './conformance/suite.js'

const GiB = 1024 * 1024 * 1024
const MiB = 1024 * 1024

it('a 1 GiB Readable goes up and comes back through LocalStore under 300 MiB of RSS', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-rss-'))
  try {
    const store = new LocalStore(dir)
    const { stream, digest } = randomReadable(GiB, MiB)
    await store.put('big.bin', stream)
    expect((await store.head('big.bin')).size).toBe(GiB)
    const hash = createHash('sha256')
    await pipeline(store.createReadStream('big.bin'), hash)
    expect(hash.digest('hex')).toBe(digest())
    const peakRss = process.resourceUsage().maxRSS * 1024
    console.log(`peak RSS for 1 GiB up and down: ${(peakRss / MiB).toFixed(0)} MiB`)
    expect(peakRss).toBeLessThan(300 * MiB)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}, 300_000)
