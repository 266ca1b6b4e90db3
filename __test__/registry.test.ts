import { afterEach, describe, expect, it } from 'vitest'
import { ConfigError, MemoryStore, storages } from '../src/index.js'
import { StorageRegistry } from '../src/registry.js'

describe('storages', () => {
  afterEach(() => {
    for (const name of storages.keys()) if (name.startsWith('registry-test')) storages.unregister(name)
  })

  it('registers, looks up, lists and unregisters stores by name', () => {
    const store = new MemoryStore()
    expect(storages.register('registry-test-a', store)).toBe(store)
    expect(storages.has('registry-test-a')).toBe(true)
    expect(storages.get('registry-test-a')).toBe(store)
    expect(storages.keys()).toContain('registry-test-a')
    expect(storages.unregister('registry-test-a')).toBe(true)
    expect(storages.has('registry-test-a')).toBe(false)
    expect(storages.unregister('registry-test-a')).toBe(false)
  })

  it('builds a store from a URL string', async () => {
    const store = storages.register('registry-test-url', 'memory://')
    await store.put('a.txt', 'x')
    expect((await storages.get('registry-test-url').head('a.txt')).size).toBe(1)
  })

  it('refuses a name already taken unless replace: true', () => {
    const first = new MemoryStore()
    const second = new MemoryStore()
    storages.register('registry-test-dup', first)
    expect(() => storages.register('registry-test-dup', second)).toThrow(ConfigError)
    expect(() => storages.register('registry-test-dup', second)).toThrow(/already registered.*replace: true/)
    expect(storages.get('registry-test-dup')).toBe(first)
    storages.register('registry-test-dup', second, { replace: true })
    expect(storages.get('registry-test-dup')).toBe(second)
  })

  it('names the registered stores when asked for an unknown one', () => {
    storages.register('registry-test-known', new MemoryStore())
    expect(() => storages.get('registry-test-missing')).toThrow(ConfigError)
    expect(() => storages.get('registry-test-missing')).toThrow(/"registry-test-missing".*registry-test-known/)
  })

  it('is one registry per process', () => {
    expect(storages).toBeInstanceOf(StorageRegistry)
    expect((globalThis as Record<symbol, unknown>)[Symbol.for('stowage.storages')]).toBe(storages)
  })
})
