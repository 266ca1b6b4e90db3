/**
 * `list` is fed page by page from Rust: the first entry of a 100 000-key
 * listing arrives long before the listing is complete.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { LocalStore, MemoryStore } from '../src/index.js'

it('the first of 100 000 local keys arrives before the listing completes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-list-'))
  try {
    for (let d = 0; d < 100; d++) {
      mkdirSync(join(dir, `d${d}`))
      for (let f = 0; f < 1000; f++) writeFileSync(join(dir, `d${d}`, `f${f}`), '')
    }
    const store = new LocalStore(dir)
    const started = performance.now()
    let firstAt = 0
    let count = 0
    const seen = new Set<string>()
    for await (const entry of store.list()) {
      if (count === 0) firstAt = performance.now() - started
      count++
      seen.add(entry.path)
    }
    const total = performance.now() - started
    console.log(`100 000 keys: first after ${firstAt.toFixed(1)} ms, all after ${total.toFixed(0)} ms`)
    expect(count).toBe(100_000)
    expect(seen.size).toBe(100_000)
    expect(firstAt).toBeLessThan(total / 5)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}, 120_000)

it('an abandoned listing stops early', async () => {
  const store = new MemoryStore()
  await Promise.all(Array.from({ length: 3000 }, (_, i) => store.put(`k/${String(i).padStart(5, '0')}`, '')))
  const firstTen: string[] = []
  for await (const entry of store.list('k')) {
    firstTen.push(entry.path)
    if (firstTen.length === 10) break
  }
  expect(firstTen).toEqual(Array.from({ length: 10 }, (_, i) => `k/${String(i).padStart(5, '0')}`))
})
