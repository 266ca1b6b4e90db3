import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm'
import { afterEach, describe, expect, it } from 'vitest'
import { FileObject } from '../../src/index.js'
import { StoredObjectColumn, StoredObjectLedger } from '../../src/typeorm/index.js'
import { listKeys, type DatabaseKind } from './databases.js'
import { useStoredObjectSuite } from './stored-object-suite.js'

function sha256(data: string | Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`
}

function file(name: string, content: string | Buffer = `content of ${name}`): FileObject {
  return new FileObject({ filename: name, content })
}

/**
 * The lifecycle rules of docs/typeorm.md, run against one database. Every test checks storage
 * by listing the store, not by trusting the entity.
 */
export function describeLifecycle(kind: DatabaseKind, { ledger = false }: { ledger?: boolean } = {}): void {
  const backend = ledger ? `lifecycle-ledger-${kind}` : `lifecycle-${kind}`

  @Entity({ name: 'lifecycle_document' })
  class Document {
    @PrimaryGeneratedColumn()
    id!: number

    @Column({ type: 'varchar', length: 100, unique: true })
    title!: string

    @StoredObjectColumn({ backend, nullable: true })
    file!: FileObject | null

    @StoredObjectColumn({ backend, multiple: true, keyPrefix: 'attachments' })
    attachments!: FileObject[]
  }

  function newDocument(title: string, fields: Partial<Document> = {}): Document {
    return Object.assign(new Document(), { title, ...fields })
  }

  describe(`TypeORM lifecycle on ${kind}${ledger ? ', with the ledger' : ''}`, () => {
    const ctx = useStoredObjectSuite({
      driver: kind,
      database: ledger ? 'stowage_lifecycle_ledger' : 'stowage_lifecycle',
      entities: ledger ? [Document, StoredObjectLedger] : [Document],
      backend,
      repositories: { documents: Document },
    })

    const stored = () => listKeys(ctx.store)
    const reload = (id: number) => ctx.documents.findOneByOrFail({ id })

    // With the ledger, every rule also leaves it empty: each upload committed or deleted, each
    // delete done.
    afterEach(async () => {
      if (ledger) expect(await ctx.dataSource.getRepository(StoredObjectLedger).find()).toEqual([])
    })

    it('uploads a file on create and keeps its filename, type and checksum through the database', async () => {
      const saved = await ctx.documents.save(newDocument('create', { file: file('report.pdf', 'pdf bytes') }))
      const keys = await stored()
      expect(keys).toHaveLength(1)
      expect(keys[0]).toBe(saved.file!.key)
      expect(keys[0]).toMatch(/report\.pdf$/)

      const loaded = await reload(saved.id)
      expect(loaded.file).toBeInstanceOf(FileObject)
      expect(loaded.file!.hasPendingContent).toBe(false)
      expect(loaded.file!.filename).toBe('report.pdf')
      expect(loaded.file!.contentType).toBe('application/pdf')
      expect(loaded.file!.size).toBe(9)
      expect(loaded.file!.checksum).toBe(sha256('pdf bytes'))
      expect((await loaded.file!.getContent()).toString()).toBe('pdf bytes')
      expect(loaded.attachments).toEqual([])
    })

    it('gives two uploads of the same filename different keys', async () => {
      const a = await ctx.documents.save(newDocument('a', { file: file('report.pdf', 'one') }))
      const b = await ctx.documents.save(newDocument('b', { file: file('report.pdf', 'two') }))
      expect(a.file!.key).not.toBe(b.file!.key)
      expect(await stored()).toEqual([a.file!.key, b.file!.key].sort())
      expect((await (await reload(a.id)).file!.getContent()).toString()).toBe('one')
      expect((await (await reload(b.id)).file!.getContent()).toString()).toBe('two')
    })

    it('uploads a streamed file', async () => {
      const chunks = [Buffer.from('streamed '), Buffer.from('content')]
      const saved = await ctx.documents.save(
        newDocument('stream', { file: new FileObject({ filename: 'notes.txt', content: Readable.from(chunks) }) }),
      )
      expect(await stored()).toEqual([saved.file!.key])
      const loaded = await reload(saved.id)
      expect(loaded.file!.checksum).toBe(sha256('streamed content'))
      expect(loaded.file!.size).toBe(16)
    })

    it('deletes the replaced object only after the transaction commits', async () => {
      const doc = await ctx.documents.save(newDocument('replace', { file: file('v1.txt') }))
      const oldKey = doc.file!.key
      let newKey = ''
      await ctx.dataSource.transaction(async (manager) => {
        doc.file = file('v2.txt')
        await manager.save(doc)
        newKey = doc.file.key
        expect(await stored()).toEqual([oldKey, newKey].sort())
      })
      expect(await stored()).toEqual([newKey])
      const loaded = await reload(doc.id)
      expect(loaded.file!.key).toBe(newKey)
      expect((await loaded.file!.getContent()).toString()).toBe('content of v2.txt')
    })

    it('replaces a file on a row loaded from the database', async () => {
      const { id } = await ctx.documents.save(newDocument('reload', { file: file('v1.txt') }))
      const loaded = await reload(id)
      const oldKey = loaded.file!.key
      loaded.file = file('v2.txt')
      await ctx.documents.save(loaded)
      expect(await stored()).toEqual([loaded.file.key])
      expect(await stored()).not.toContain(oldKey)
    })

    it('deletes the object when the column is set to null', async () => {
      const doc = await ctx.documents.save(newDocument('null', { file: file('gone.txt') }))
      doc.file = null
      await ctx.documents.save(doc)
      expect(await stored()).toEqual([])
      expect((await reload(doc.id)).file).toBeNull()
    })

    it('deletes every object of a removed row', async () => {
      const doc = await ctx.documents.save(
        newDocument('remove', { file: file('main.txt'), attachments: [file('a.txt'), file('b.txt')] }),
      )
      expect(await stored()).toHaveLength(3)
      await ctx.documents.remove(doc)
      expect(await stored()).toEqual([])
      expect(await ctx.documents.count()).toBe(0)
    })

    it('saves adds to and removes from a multiple column, in place or by reassignment', async () => {
      const doc = await ctx.documents.save(newDocument('multiple', { attachments: [file('a.txt'), file('b.txt')] }))
      const [a, b] = doc.attachments.map((f) => f.key)
      expect(await stored()).toEqual([a, b].sort())
      expect(a).toMatch(/^attachments\//)

      doc.attachments.push(file('c.txt'))
      await ctx.documents.save(doc)
      const c = doc.attachments[2]!.key
      expect(await stored()).toEqual([a, b, c].sort())
      expect((await reload(doc.id)).attachments.map((f) => f.filename)).toEqual(['a.txt', 'b.txt', 'c.txt'])

      doc.attachments.splice(0, 1)
      await ctx.documents.save(doc)
      expect(await stored()).toEqual([b, c].sort())
      expect((await reload(doc.id)).attachments.map((f) => f.key)).toEqual([b, c])

      const loaded = await reload(doc.id)
      loaded.attachments = [loaded.attachments[1]!, file('d.txt')]
      await ctx.documents.save(loaded)
      const d = loaded.attachments[1]!.key
      expect(await stored()).toEqual([c, d].sort())
      expect((await reload(doc.id)).attachments.map((f) => f.filename)).toEqual(['c.txt', 'd.txt'])
    })

    it('saves an edited FileObject (metadata change) as a change', async () => {
      const doc = await ctx.documents.save(newDocument('edit', { file: file('meta.txt') }))
      const loaded = await reload(doc.id)
      loaded.file!.metadata = { reviewed: 'yes' }
      loaded.file!.filename = 'renamed.txt'
      await ctx.documents.save(loaded)
      const again = await reload(doc.id)
      expect(again.file!.metadata).toEqual({ reviewed: 'yes' })
      expect(again.file!.filename).toBe('renamed.txt')
      expect(await stored()).toEqual([doc.file!.key])
    })

    it('leaves no row and nothing in storage when the transaction throws after uploading', async () => {
      await expect(
        ctx.dataSource.transaction(async (manager) => {
          await manager.save(newDocument('doomed', { file: file('x.txt'), attachments: [file('y.txt')] }))
          expect(await stored()).toHaveLength(2)
          throw new Error('user error')
        }),
      ).rejects.toThrow('user error')
      expect(await ctx.documents.count()).toBe(0)
      expect(await stored()).toEqual([])
    })

    it('deletes the upload of an insert that breaks a unique constraint', async () => {
      const first = await ctx.documents.save(newDocument('unique', { file: file('first.txt') }))
      await expect(ctx.documents.save(newDocument('unique', { file: file('second.txt') }))).rejects.toThrow()
      expect(await stored()).toEqual([first.file!.key])
      expect(await ctx.documents.count()).toBe(1)
    })

    it('keeps the old object and drops the new one when a replace rolls back', async () => {
      const doc = await ctx.documents.save(newDocument('rollback', { file: file('old.txt') }))
      const oldKey = doc.file!.key
      await expect(
        ctx.dataSource.transaction(async (manager) => {
          doc.file = file('new.txt')
          await manager.save(doc)
          throw new Error('abort')
        }),
      ).rejects.toThrow('abort')
      expect(await stored()).toEqual([oldKey])
      expect((await reload(doc.id)).file!.key).toBe(oldKey)
    })

    it('handles nested transactions: a rolled-back savepoint undoes only its own work', async () => {
      const doc = await ctx.documents.save(newDocument('nested', { file: file('keep.txt') }))
      const keepKey = doc.file!.key
      let outerKey = ''
      let innerKey = ''
      await ctx.dataSource.transaction(async (outer) => {
        const outerDoc = await outer.save(newDocument('outer', { file: file('outer.txt') }))
        outerKey = outerDoc.file!.key
        await expect(
          outer.transaction(async (inner) => {
            const innerDoc = await inner.save(newDocument('inner', { file: file('inner.txt') }))
            innerKey = innerDoc.file!.key
            doc.file = file('replacement.txt')
            await inner.save(doc)
            throw new Error('inner abort')
          }),
        ).rejects.toThrow('inner abort')
        // The savepoint's uploads are gone; the delete it scheduled for keep.txt is cancelled.
        expect(await stored()).toEqual([keepKey, outerKey].sort())
        expect(await stored()).not.toContain(innerKey)
      })
      expect(await stored()).toEqual([keepKey, outerKey].sort())
      expect((await reload(doc.id)).file!.key).toBe(keepKey)
      expect(await ctx.documents.countBy({ title: 'inner' })).toBe(0)
    })

    it('handles nested transactions: a committed savepoint waits for the outermost commit', async () => {
      const doc = await ctx.documents.save(newDocument('nested-commit', { file: file('v1.txt') }))
      const oldKey = doc.file!.key
      await ctx.dataSource.transaction(async (outer) => {
        await outer.transaction(async (inner) => {
          doc.file = file('v2.txt')
          await inner.save(doc)
        })
        expect(await stored()).toContain(oldKey)
      })
      expect(await stored()).toEqual([doc.file!.key])

      const newKey = doc.file!.key
      await expect(
        ctx.dataSource.transaction(async (outer) => {
          await outer.transaction(async (inner) => {
            doc.file = file('v3.txt')
            await inner.save(doc)
          })
          throw new Error('outer abort')
        }),
      ).rejects.toThrow('outer abort')
      expect(await stored()).toEqual([newKey])
    })

    it('applies deletes right after the write with save({ transaction: false })', async () => {
      const doc = await ctx.documents.save(newDocument('no-tx', { file: file('one.txt') }), { transaction: false })
      const oldKey = doc.file!.key
      expect(await stored()).toEqual([oldKey])
      doc.file = file('two.txt')
      await ctx.documents.save(doc, { transaction: false })
      expect(await stored()).toEqual([doc.file.key])
      await expect(
        ctx.documents.save(newDocument('no-tx', { file: file('dup.txt') }), { transaction: false }),
      ).rejects.toThrow()
      expect(await stored()).toEqual([doc.file.key])
    })

    it('keeps every object of 50 concurrent saves, and leaves no orphans when they are all replaced', async () => {
      const created = await Promise.all(
        Array.from({ length: 50 }, (_, i) => ctx.documents.save(newDocument(`concurrent-${i}`, { file: file(`f${i}.txt`, `body ${i}`) }))),
      )
      const keys = created.map((d) => d.file!.key)
      expect(new Set(keys).size).toBe(50)
      expect(await stored()).toEqual([...keys].sort())
      // Rows are re-read rather than reusing `created`: TypeORM's sql.js driver can hand
      // concurrently inserted entities each other's generated ids (its one connection is shared).
      const rows = await ctx.documents.find()
      expect(rows).toHaveLength(50)
      expect(rows.map((d) => d.file!.key).sort()).toEqual([...keys].sort())

      await Promise.all(
        rows.map((d) => {
          d.file = file(`g-${d.title}.txt`, `new body of ${d.title}`)
          return ctx.documents.save(d)
        }),
      )
      const replaced = await ctx.documents.find()
      expect(replaced).toHaveLength(50)
      const referenced = replaced.map((d) => d.file!.key).sort()
      expect(new Set(referenced).size).toBe(50)
      expect(await stored()).toEqual(referenced)
      for (const row of replaced) {
        expect(row.file!.filename).toBe(`g-${row.title}.txt`)
        expect((await row.file!.getContent()).toString()).toBe(`new body of ${row.title}`)
      }
    })
  })
}
