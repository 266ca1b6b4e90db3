import { Entity, PrimaryGeneratedColumn } from 'typeorm'
import { describe, expect, it } from 'vitest'
import { FileObject, MemoryStore, storages } from '../../src/index.js'
import { StoredObjectColumn, sweepOrphans } from '../../src/typeorm/index.js'
import { listKeys } from './databases.js'
import { useStoredObjectSuite } from './stored-object-suite.js'

const backend = 'sweep-test'
const other = 'sweep-other'

@Entity({ name: 'sweep_note' })
class Note {
  @PrimaryGeneratedColumn()
  id!: number

  @StoredObjectColumn({ backend, nullable: true })
  file!: FileObject | null
}

@Entity({ name: 'sweep_album' })
class Album {
  @PrimaryGeneratedColumn()
  id!: number

  @StoredObjectColumn({ backend, multiple: true })
  photos!: FileObject[]
}

describe('sweepOrphans', () => {
  const ctx = useStoredObjectSuite({
    driver: 'sqlite',
    database: 'stowage_sweep',
    entities: [Note, Album],
    backend,
    // `other` holds the file the second test saves, which a sweep of `backend` must leave alone.
    otherBackends: { [other]: () => new MemoryStore() },
    repositories: { notes: Note, albums: Album },
  })

  it('reports, and only with dryRun: false deletes, the objects no row of any entity references', async () => {
    const kept = await ctx.notes.save(Object.assign(new Note(), { file: new FileObject({ filename: 'kept.txt', content: 'k' }) }))
    const album = await ctx.albums.save(
      Object.assign(new Album(), { photos: [new FileObject({ filename: 'p1.jpg', content: '1' }), new FileObject({ filename: 'p2.jpg', content: '2' })] }),
    )
    const bypassed = await ctx.notes.save(Object.assign(new Note(), { file: new FileObject({ filename: 'bypassed.txt', content: 'bb' }) }))
    await ctx.notes.delete(bypassed.id) // Repository.delete bypasses the subscriber
    await ctx.store.put('stray/loose.bin', 'loose')
    const referenced = [kept.file.key, ...album.photos.map((p) => p.key)]
    const orphans = [bypassed.file.key, 'stray/loose.bin'].sort()

    const dry = await sweepOrphans(ctx.dataSource, { backend })
    expect(dry.dryRun).toBe(true)
    expect(dry.scanned).toBe(5)
    expect(dry.referenced).toBe(3)
    expect(dry.orphans.map((o) => o.path).sort()).toEqual(orphans)
    expect(dry.orphanBytes).toBe(7)
    expect(dry.deleted).toEqual([])
    expect(await listKeys(ctx.store)).toEqual([...referenced, ...orphans].sort())

    const real = await sweepOrphans(ctx.dataSource, { backend, dryRun: false })
    expect(real.deleted.sort()).toEqual(orphans)
    expect(await listKeys(ctx.store)).toEqual([...referenced].sort())

    const again = await sweepOrphans(ctx.dataSource, { backend, dryRun: false })
    expect(again.orphans).toEqual([])
  })

  it('ignores references to other backends and objects younger than minAgeMs', async () => {
    await ctx.notes.save(Object.assign(new Note(), { file: new FileObject({ backend: other, filename: 'elsewhere.txt', content: 'e' }) }))
    await ctx.store.put('fresh.txt', 'f')
    const report = await sweepOrphans(ctx.dataSource, { backend, dryRun: false, minAgeMs: 60_000 })
    expect(report.referenced).toBe(0)
    expect(report.orphans).toEqual([])
    expect(await listKeys(ctx.store)).toEqual(['fresh.txt'])
    expect(await listKeys(storages.get(other))).toHaveLength(1)
  })
})
