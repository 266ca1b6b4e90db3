/**
 * The ledger (`StoredObjectLedger`) and `reapLedger`: what is recorded when, what a dead process
 * leaves, and what the reaper does with it, on PostgreSQL, MariaDB and sql.js saved to a file.
 * kill.test.ts checks the whole against real kills.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import { Entity, PrimaryGeneratedColumn, type DataSource } from 'typeorm'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ConfigError, FileObject, MemoryStore, PreconditionError, storages } from '../../src/index.js'
import { StoredObjectColumn, StoredObjectDataSource, StoredObjectLedger, reapLedger } from '../../src/typeorm/index.js'
import { dataSourceOptions, listKeys, openDataSource } from './databases.js'
import { useStoredObjectSuite } from './stored-object-suite.js'

const backend = 'ledger-test'

@Entity({ name: 'ledger_note' })
class Note {
  @PrimaryGeneratedColumn()
  id!: number

  @StoredObjectColumn({ backend, nullable: true })
  file!: FileObject | null
}

/** Content that runs `during` once the upload has started reading it, then yields its bytes. */
function contentDuring(during: () => Promise<void>, text = 'note body'): AsyncIterable<Buffer> {
  return (async function* () {
    await during()
    yield Buffer.from(text)
  })()
}

/** Writes ledger entries as a process that died would have left them. */
async function leaveEntries(dataSource: DataSource, entries: Array<Pick<StoredObjectLedger, 'key' | 'kind'> & { ageMs: number }>): Promise<void> {
  await dataSource.getRepository(StoredObjectLedger).insert(
    entries.map((e) => ({ id: randomUUID(), backend, key: e.key, kind: e.kind, created: new Date(Date.now() - e.ageMs) })),
  )
}

@Entity({ name: 'ledger_album' })
class Album {
  @PrimaryGeneratedColumn()
  id!: number

  @StoredObjectColumn({ backend, multiple: true })
  files!: FileObject[]
}

describe.each(['postgres', 'mariadb'] as const)('the ledger on %s', (kind) => {
  const ctx = useStoredObjectSuite({
    driver: kind,
    database: 'stowage_ledger_test',
    entities: [Note, Album, StoredObjectLedger],
    backend,
    // Not Album: the one test that saves albums clears its table itself.
    repositories: { notes: Note, ledger: StoredObjectLedger },
  })

  it("commits an upload's entry on its own before the upload, and removes it in the row's commit", async () => {
    let seenDuringUpload: StoredObjectLedger[] = []
    const file = new FileObject({
      filename: 'a.txt',
      // Read through another connection of the pool: only what is committed is visible there.
      content: contentDuring(async () => { seenDuringUpload = await ctx.ledger.find() }),
    })
    let seenBeforeCommit: StoredObjectLedger[] = []
    await ctx.dataSource.transaction(async (manager) => {
      await manager.save(Object.assign(new Note(), { file }))
      seenBeforeCommit = await ctx.ledger.find()
    })
    expect(seenDuringUpload.map((e) => [e.kind, e.backend, e.key])).toEqual([['upload', backend, file.key]])
    expect(seenDuringUpload[0]!.created).toBeInstanceOf(Date)
    // Removed by the open transaction, so still there for everyone else until it commits.
    expect(seenBeforeCommit).toHaveLength(1)
    expect(await ctx.ledger.count()).toBe(0)
    expect(await listKeys(ctx.store)).toEqual([file.key])
  })

  it('saves rows of several files each in one transaction, a rolled-back savepoint between them, without waiting on its own locks', async () => {
    // Each save's entries are inserted on another connection while this transaction holds the
    // locks of the entries it removed: on InnoDB those must not cover the gaps new entries go in.
    const files = (prefix: string) => ['a', 'b', 'c'].map((n) => new FileObject({ filename: `${prefix}-${n}.txt`, content: n }))
    const albums = ctx.dataSource.getRepository(Album)
    await albums.clear()
    await ctx.dataSource.transaction(async (manager) => {
      await manager.save(Object.assign(new Album(), { files: files('one') }))
      await expect(
        manager.transaction(async (inner) => {
          await inner.save(Object.assign(new Album(), { files: files('dropped') }))
          throw new Error('inner abort')
        }),
      ).rejects.toThrow('inner abort')
      await manager.save(Object.assign(new Album(), { files: files('two') }))
    })
    const kept = await albums.find({ order: { id: 'ASC' } })
    expect(kept.map((album) => album.files.map((f) => f.filename))).toEqual([
      ['one-a.txt', 'one-b.txt', 'one-c.txt'],
      ['two-a.txt', 'two-b.txt', 'two-c.txt'],
    ])
    expect(await listKeys(ctx.store)).toEqual(kept.flatMap((album) => album.files.map((f) => f.key)).sort())
    expect(await ctx.ledger.count()).toBe(0)
  })

  it('a rollback deletes the upload and its entry', async () => {
    await expect(
      ctx.dataSource.transaction(async (manager) => {
        await manager.save(Object.assign(new Note(), { file: new FileObject({ filename: 'b.txt', content: 'b' }) }))
        throw new Error('roll back')
      }),
    ).rejects.toThrow('roll back')
    expect(await listKeys(ctx.store)).toEqual([])
    expect(await ctx.ledger.count()).toBe(0)
  })

  it("writes a transaction's deletes in it and removes them once the objects are deleted after the commit", async () => {
    const note = await ctx.notes.save(Object.assign(new Note(), { file: new FileObject({ filename: 'old.txt', content: 'old' }) }))
    const oldKey = note.file.key
    let inside: StoredObjectLedger[] = []
    let outside: StoredObjectLedger[] = []
    await ctx.dataSource.transaction(async (manager) => {
      note.file = new FileObject({ filename: 'new.txt', content: 'new' })
      await manager.save(note)
      inside = await manager.getRepository(StoredObjectLedger).find()
      outside = await ctx.ledger.find()
    })
    // Inside: the delete written, the new upload's entry removed. Outside, until the commit: the
    // upload's entry (committed on its own), and no delete.
    expect(inside.map((e) => [e.kind, e.key])).toEqual([['delete', oldKey]])
    expect(outside.map((e) => [e.kind, e.key])).toEqual([['upload', note.file.key]])
    expect(await listKeys(ctx.store)).toEqual([note.file.key])
    expect(await ctx.ledger.count()).toBe(0)
  })

  it('reapLedger deletes abandoned uploads, completes committed deletes, leaves young entries, and is idempotent', async () => {
    await ctx.store.put('abandoned.bin', 'a')
    await ctx.store.put('doomed.bin', 'd')
    await ctx.store.put('young.bin', 'y')
    await leaveEntries(ctx.dataSource, [
      { key: 'abandoned.bin', kind: 'upload', ageMs: 120_000 },
      { key: 'doomed.bin', kind: 'delete', ageMs: 120_000 },
      { key: 'never-uploaded.bin', kind: 'upload', ageMs: 120_000 },
      { key: 'young.bin', kind: 'upload', ageMs: 0 },
    ])
    const report = await reapLedger(ctx.dataSource, { olderThan: 60_000 })
    expect(report.deletedUploads.map((o) => o.key).sort()).toEqual(['abandoned.bin', 'never-uploaded.bin'])
    expect(report.completedDeletes).toEqual([{ backend, key: 'doomed.bin' }])
    expect(report.failed).toEqual([])
    expect(await listKeys(ctx.store)).toEqual(['young.bin'])
    expect((await ctx.ledger.find()).map((e) => e.key)).toEqual(['young.bin'])

    const again = await reapLedger(ctx.dataSource, { olderThan: 60_000 })
    expect([again.deletedUploads, again.completedDeletes]).toEqual([[], []])
    const all = await reapLedger(ctx.dataSource, { olderThan: 0 })
    expect(all.deletedUploads).toEqual([{ backend, key: 'young.bin' }])
    expect(await listKeys(ctx.store)).toEqual([])
  })

  it('keeps an entry whose object cannot be deleted, and reports it', async () => {
    await ctx.dataSource.getRepository(StoredObjectLedger).insert({ id: randomUUID(), backend: 'not-registered', key: 'x', kind: 'delete', created: new Date(0) })
    const report = await reapLedger(ctx.dataSource, { olderThan: 0 })
    expect(report.failed).toEqual([{ backend: 'not-registered', key: 'x' }])
    expect(report.errors[0]).toMatch(/not-registered/)
    expect(await ctx.ledger.count()).toBe(1)
  })

  it('two reapers at once take each entry once', async () => {
    const keys = Array.from({ length: 30 }, (_, i) => `k${String(i).padStart(2, '0')}`)
    for (const key of keys) await ctx.store.put(key, key)
    await leaveEntries(ctx.dataSource, keys.map((key, i) => ({ key, kind: i % 2 === 0 ? 'upload' : 'delete', ageMs: 1000 })))
    const reports = await Promise.all([reapLedger(ctx.dataSource, { olderThan: 0, batchSize: 4 }), reapLedger(ctx.dataSource, { olderThan: 0, batchSize: 4 })])
    const taken = reports.flatMap((r) => [...r.deletedUploads, ...r.completedDeletes].map((o) => o.key)).sort()
    expect(taken).toEqual(keys)
    expect(reports.flatMap((r) => r.failed)).toEqual([])
    expect(await listKeys(ctx.store)).toEqual([])
    expect(await ctx.ledger.count()).toBe(0)
  })

  it('refuses to commit a row whose upload a reaper took while it was in flight', async () => {
    const file = new FileObject({ filename: 'slow.txt', content: contentDuring(async () => { await reapLedger(ctx.dataSource, { olderThan: 0 }) }) })
    await expect(ctx.notes.save(Object.assign(new Note(), { file }))).rejects.toBeInstanceOf(PreconditionError)
    expect(await ctx.notes.count()).toBe(0)
    expect(await listKeys(ctx.store)).toEqual([])
    expect(await ctx.ledger.count()).toBe(0)
  })

  it('gives a migration that a second generation leaves unchanged', async () => {
    const options = await dataSourceOptions(kind, 'stowage_ledger_migration', [Note, StoredObjectLedger])
    const fresh = new StoredObjectDataSource({ ...options, synchronize: false, dropSchema: true })
    await fresh.initialize()
    try {
      // What `typeorm migration:generate` writes into a migration's up().
      const first = await fresh.driver.createSchemaBuilder().log()
      expect(first.upQueries.some((q) => q.query.includes('stowage_ledger'))).toBe(true)
      const runner = fresh.createQueryRunner()
      try {
        for (const query of first.upQueries) await runner.query(query.query, query.parameters)
      } finally {
        await runner.release()
      }
      const second = await fresh.driver.createSchemaBuilder().log()
      expect(second.upQueries.map((q) => q.query)).toEqual([])
    } finally {
      await fresh.destroy()
    }
  })
})

describe('the ledger on sql.js saved to a file', () => {
  let scratch: string
  let location: string
  let deletesSawDisk: boolean[]

  class DiskCheckingStore extends MemoryStore {
    override async delete(...args: Parameters<MemoryStore['delete']>): ReturnType<MemoryStore['delete']> {
      // The file on disk must already hold the commit whose deletes these are.
      const exported = Buffer.from((ctx.dataSource.driver as unknown as { export(): Uint8Array }).export())
      deletesSawDisk.push(fs.readFileSync(location).equals(exported))
      return super.delete(...args)
    }
  }

  const journal = () => `${location}.stowage-ledger`

  // Declared before the suite's hooks, so (after-hooks run in reverse) the scratch directory is
  // removed only once the DataSource saving into it is destroyed.
  beforeAll(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'stowage-ledger-'))
    location = path.join(scratch, 'app.sqlite')
  })
  afterAll(() => {
    fs.rmSync(scratch, { recursive: true, force: true })
  })
  const ctx = useStoredObjectSuite({
    // sql.js saved to a file (openDataSource's sql.js is in memory), which journals its uploads.
    open: async () => {
      const dataSource = new StoredObjectDataSource({ type: 'sqljs', location, autoSave: true, entities: [Note, StoredObjectLedger], synchronize: true })
      await dataSource.initialize()
      return dataSource
    },
    backend,
    store: () => new DiskCheckingStore(),
    repositories: { notes: Note },
  })
  beforeEach(() => {
    deletesSawDisk = []
    fs.rmSync(journal(), { force: true })
  })

  it('journals an upload beside the database file before it starts, and settles it once the commit is on disk', async () => {
    let journalDuringUpload = ''
    const file = new FileObject({ filename: 'j.txt', content: contentDuring(async () => { journalDuringUpload = fs.readFileSync(journal(), 'utf8') }) })
    await ctx.notes.save(Object.assign(new Note(), { file }))
    expect(journalDuringUpload).toContain(JSON.stringify(file.key))
    expect(journalDuringUpload).toContain('"op":"+"')
    const report = await reapLedger(ctx.dataSource, { olderThan: 0 })
    expect([report.deletedUploads, report.settledUploads]).toEqual([[], []])
    expect(fs.existsSync(journal())).toBe(false)
  })

  it('deletes replaced objects only once the database file holds the commit', async () => {
    const note = await ctx.notes.save(Object.assign(new Note(), { file: new FileObject({ filename: 'v1.txt', content: '1' }) }))
    note.file = new FileObject({ filename: 'v2.txt', content: '2' })
    await ctx.notes.save(note)
    await ctx.notes.remove(note)
    expect(deletesSawDisk).toEqual([true, true])
    expect(await listKeys(storages.get(backend))).toEqual([])
    expect(await ctx.dataSource.getRepository(StoredObjectLedger).count()).toBe(0)
  })

  it('reapLedger deletes journaled uploads no row references and keeps those a row does', async () => {
    const store = storages.get(backend)
    const kept = await ctx.notes.save(Object.assign(new Note(), { file: new FileObject({ filename: 'kept.txt', content: 'k' }) }))
    await store.put('abandoned.bin', 'a')
    const line = (key: string) => JSON.stringify({ op: '+', id: randomUUID(), backend, key, created: Date.now() - 1000 })
    // As a killed process leaves it: its last line torn mid-append.
    fs.writeFileSync(journal(), `${line('abandoned.bin')}\n${line(kept.file.key)}\n{"op":"+","id":"tor`)
    const report = await reapLedger(ctx.dataSource, { olderThan: 0 })
    expect(report.deletedUploads).toEqual([{ backend, key: 'abandoned.bin' }])
    expect(report.settledUploads).toEqual([{ backend, key: kept.file.key }])
    expect(await listKeys(store)).toEqual([kept.file.key])
    expect(fs.existsSync(journal())).toBe(false)
  })
})

describe('reapLedger without the ledger entity', () => {
  it('throws a ConfigError saying what to add', async () => {
    const dataSource = await openDataSource('sqlite', 'stowage_no_ledger', [Note])
    try {
      await expect(reapLedger(dataSource, { olderThan: 0 })).rejects.toBeInstanceOf(ConfigError)
      await expect(reapLedger(dataSource, { olderThan: 0 })).rejects.toThrow(/StoredObjectLedger/)
    } finally {
      await dataSource.destroy()
    }
  })
})
