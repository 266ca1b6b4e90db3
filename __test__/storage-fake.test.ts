import { AssertionError } from 'node:assert'
import { Entity, PrimaryGeneratedColumn } from 'typeorm'
import { describe, expect, it } from 'vitest'
import { ConfigError, FileObject, MemoryStore, storages } from '../src/index.js'
import { StoredObjectColumn } from '../src/typeorm/index.js'
import { listKeys } from './typeorm/databases.js'
import { useStoredObjectSuite } from './typeorm/stored-object-suite.js'

const backend = 'fake-test'

@Entity({ name: 'fake_test_photo' })
class Photo {
  @PrimaryGeneratedColumn()
  id!: number

  @StoredObjectColumn({ backend, nullable: true })
  file!: FileObject | null
}

describe('storages.fake', () => {
  const real = new MemoryStore()
  // The same store for every test, registered again before each: a test may leave a fake (or
  // another store) in its place.
  const ctx = useStoredObjectSuite({
    driver: 'sqlite',
    database: 'stowage_fake',
    entities: [Photo],
    backend,
    store: () => real,
  })

  it('swaps the store for an empty MemoryStore that FileObjects use, and restore() brings the original back', async () => {
    await real.put('kept.txt', 'real')
    const fake = storages.fake(backend)
    expect(storages.get(backend)).toBe(fake.store)
    expect(fake.store).toBeInstanceOf(MemoryStore)
    expect(fake.name).toBe(backend)

    const file = await new FileObject({ backend, filename: 'a.txt', content: 'faked' }).save()
    await fake.assertExists(file.key)
    await fake.assertMissing('kept.txt')
    expect(await (await fake.store.get(file.key)).text()).toBe('faked')

    fake.restore()
    expect(storages.get(backend)).toBe(real)
    expect(await listKeys(real)).toEqual(['kept.txt'])
    fake.restore() // a second restore() changes nothing
    expect(storages.get(backend)).toBe(real)
    await real.delete('kept.txt')
  })

  it('fails its assertions with an AssertionError that names the key and what the fake holds', async () => {
    const fake = storages.fake(backend)
    await fake.store.put('uploads/one.txt', '1')
    const missing = await fake.assertExists('uploads/two.txt').catch((e: unknown) => e)
    expect(missing).toBeInstanceOf(AssertionError)
    expect((missing as Error).message).toBe(
      `expected "uploads/two.txt" to exist in the fake of "${backend}", but it does not (it holds 1: "uploads/one.txt")`,
    )
    const present = await fake.assertMissing('uploads/one.txt').catch((e: unknown) => e)
    expect(present).toBeInstanceOf(AssertionError)
    expect((present as Error).message).toMatch(/expected "uploads\/one\.txt" to be missing .* but it exists/)
    await fake.store.delete('uploads/one.txt')
    const empty = await fake.assertExists('x').catch((e: unknown) => e)
    expect((empty as Error).message).toMatch(/it holds no objects/)
    fake.restore()
  })

  it('serves the @StoredObjectColumns of entities while it is in place', async () => {
    const fake = storages.fake(backend)
    const photos = ctx.dataSource.getRepository(Photo)
    const saved = await photos.save(Object.assign(new Photo(), { file: new FileObject({ filename: 'p.txt', content: 'photo' }) }))
    const key = saved.file.key
    await fake.assertExists(key)
    expect(await listKeys(real)).toEqual([])
    await photos.remove(saved)
    await fake.assertMissing(key)
    fake.restore()
  })

  it('fakes again with a new empty store, and the newest fake restores the original', async () => {
    const first = storages.fake(backend)
    await first.store.put('a', '1')
    const second = storages.fake(backend)
    expect(second.store).not.toBe(first.store)
    await second.assertMissing('a')
    first.restore() // no longer in place: changes nothing
    expect(storages.get(backend)).toBe(second.store)
    second.restore()
    expect(storages.get(backend)).toBe(real)
  })

  it('leaves a store registered on purpose during a fake in place, and refuses unknown names', () => {
    const fake = storages.fake(backend)
    const other = new MemoryStore()
    storages.register(backend, other, { replace: true })
    fake.restore()
    expect(storages.get(backend)).toBe(other)
    expect(() => storages.fake('fake-test-unknown')).toThrow(ConfigError)
  })
})
