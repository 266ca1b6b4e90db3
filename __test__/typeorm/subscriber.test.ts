import { DeleteDateColumn, Entity, PrimaryGeneratedColumn, type DataSource, type Repository } from 'typeorm'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { FileObject, MemoryStore, storages, type ObjectStore } from '../../src/index.js'
import { StoredObjectColumn, sweepOrphans } from '../../src/typeorm/index.js'
import { listKeys, openDataSource } from './databases.js'

const backend = 'subscriber-test'

@Entity({ name: 'subscriber_record' })
class Record {
  @PrimaryGeneratedColumn()
  id!: number

  @StoredObjectColumn({ backend, nullable: true })
  file!: FileObject | null

  @DeleteDateColumn({ nullable: true })
  deletedAt!: Date | null
}

const file = (name: string) => new FileObject({ filename: name, content: `content of ${name}` })

describe('StoredObjectSubscriber beyond Repository.save', () => {
  let dataSource: DataSource
  let records: Repository<Record>
  let store: ObjectStore

  beforeAll(async () => {
    dataSource = await openDataSource('sqlite', 'stowage_subscriber', [Record])
    records = dataSource.getRepository(Record)
  })
  afterAll(async () => {
    await dataSource?.destroy()
    storages.unregister(backend)
  })
  beforeEach(async () => {
    store = new MemoryStore()
    storages.register(backend, store, { replace: true })
    await records.clear()
  })

  it('uploads the file given to Repository.update before the write; the old object is left to sweepOrphans', async () => {
    const { id, file: old } = await records.save(Object.assign(new Record(), { file: file('old.txt') }))
    const replacement = file('new.txt')
    await records.update(id, { file: replacement })
    const loaded = await records.findOneByOrFail({ id })
    expect(loaded.file!.key).toBe(replacement.key)
    expect((await loaded.file!.getContent()).toString()).toBe('content of new.txt')
    expect(await listKeys(store)).toEqual([old.key, replacement.key].sort())
    const swept = await sweepOrphans(dataSource, { backend, dryRun: false })
    expect(swept.deleted).toEqual([old.key])
    expect(await listKeys(store)).toEqual([replacement.key])
  })

  it('keeps the objects of a soft-removed row, which can still be recovered', async () => {
    const saved = await records.save(Object.assign(new Record(), { file: file('soft.txt') }))
    await records.softRemove(saved)
    expect(await listKeys(store)).toEqual([saved.file.key])
    expect((await sweepOrphans(dataSource, { backend })).orphans).toEqual([])
    await records.recover(saved)
    expect((await records.findOneByOrFail({ id: saved.id })).file!.key).toBe(saved.file.key)
  })

  it('saves a row with no stored-object changes without touching storage', async () => {
    const saved = await records.save(Object.assign(new Record(), { file: file('same.txt') }))
    const loaded = await records.findOneByOrFail({ id: saved.id })
    await records.save(loaded)
    expect(await listKeys(store)).toEqual([saved.file.key])
  })
})
