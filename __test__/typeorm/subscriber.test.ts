import { DeleteDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm'
import { describe, expect, it } from 'vitest'
import { FileObject } from '../../src/index.js'
import { StoredObjectColumn, sweepOrphans } from '../../src/typeorm/index.js'
import { listKeys } from './databases.js'
import { useStoredObjectSuite } from './stored-object-suite.js'

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
  const ctx = useStoredObjectSuite({
    driver: 'sqlite',
    database: 'stowage_subscriber',
    entities: [Record],
    backend,
    repositories: { records: Record },
  })

  it('uploads the file given to Repository.update before the write; the old object is left to sweepOrphans', async () => {
    const { id, file: old } = await ctx.records.save(Object.assign(new Record(), { file: file('old.txt') }))
    const replacement = file('new.txt')
    await ctx.records.update(id, { file: replacement })
    const loaded = await ctx.records.findOneByOrFail({ id })
    expect(loaded.file!.key).toBe(replacement.key)
    expect((await loaded.file!.getContent()).toString()).toBe('content of new.txt')
    expect(await listKeys(ctx.store)).toEqual([old.key, replacement.key].sort())
    const swept = await sweepOrphans(ctx.dataSource, { backend, dryRun: false })
    expect(swept.deleted).toEqual([old.key])
    expect(await listKeys(ctx.store)).toEqual([replacement.key])
  })

  it('keeps the objects of a soft-removed row, which can still be recovered', async () => {
    const saved = await ctx.records.save(Object.assign(new Record(), { file: file('soft.txt') }))
    await ctx.records.softRemove(saved)
    expect(await listKeys(ctx.store)).toEqual([saved.file.key])
    expect((await sweepOrphans(ctx.dataSource, { backend })).orphans).toEqual([])
    await ctx.records.recover(saved)
    expect((await ctx.records.findOneByOrFail({ id: saved.id })).file!.key).toBe(saved.file.key)
  })

  it('saves a row with no stored-object changes without touching storage', async () => {
    const saved = await ctx.records.save(Object.assign(new Record(), { file: file('same.txt') }))
    const loaded = await ctx.records.findOneByOrFail({ id: saved.id })
    await ctx.records.save(loaded)
    expect(await listKeys(ctx.store)).toEqual([saved.file.key])
  })
})
