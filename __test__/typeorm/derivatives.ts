import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import sharp from 'sharp'
import { Column, Entity, PrimaryGeneratedColumn, type DataSource, type Repository } from 'typeorm'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { DerivativeError, FileObject, storages, type ObjectStore } from '../../src/index.js'
import { StoredObjectColumn, StoredObjectDataSource, StoredObjectLedger, reapLedger, sweepOrphans } from '../../src/typeorm/index.js'
import { LedgerJournal } from '../../src/typeorm/ledger-journal.js'
import { makeS3, uniquePrefix, useServers } from '../cloud/helpers.js'
import { pdf, png } from '../fixtures/images.js'
import { dataSourceOptions, listKeys, type DatabaseKind } from './databases.js'

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`
}

async function dimensions(bytes: Buffer): Promise<{ format: string | undefined; width: number | undefined; height: number | undefined }> {
  const { format, width, height } = await sharp(bytes).metadata()
  return { format, width, height }
}

/** Thrown by a test's transaction to end it once its checks inside are done. */
class Abandon extends Error {}

/**
 * Derivatives of `@StoredObjectColumn` (docs/typeorm.md, "Derivatives") on one database, with
 * the ledger, on the S3 emulator: real thumbnails made with sharp, and every lifecycle rule
 * checked by listing the bucket.
 */
export function describeDerivatives(kind: DatabaseKind): void {
  const backend = `derivatives-${kind}`

  @Entity({ name: 'derivative_photo' })
  class Photo {
    @PrimaryGeneratedColumn()
    id!: number

    @Column({ type: 'varchar', length: 100 })
    title!: string

    // thumb streams a sharp pipeline; preview hands back a Buffer. A source that is no image makes
    // sharp fail, which fails the save.
    @StoredObjectColumn({
      backend,
      nullable: true,
      derivatives: {
        thumb: (source) => sharp(source).resize(128, 128, { fit: 'inside' }).webp(),
        preview: (source) => sharp(source).resize(320).jpeg().toBuffer(),
      },
    })
    image!: FileObject | null

    // Thumbnails for the images of the list only; a PDF gets none.
    @StoredObjectColumn({
      backend,
      multiple: true,
      keyPrefix: 'gallery',
      derivatives: {
        thumb: (source, original) => (original.contentType.startsWith('image/') ? sharp(source).resize(64).png() : null),
      },
    })
    gallery!: FileObject[]
  }

  const photo = (title: string, fields: Partial<Photo> = {}) => Object.assign(new Photo(), { title, ...fields })
  const image = (name = 'photo.png', width = 640, height = 480) => new FileObject({ filename: name, content: png(width, height) })
  const thumbKey = (file: FileObject) => `${file.key}.derivatives/thumb`
  const previewKey = (file: FileObject) => `${file.key}.derivatives/preview`
  /** The keys a saved `image` stands for: its own and its two derivatives'. */
  const imageKeys = (file: FileObject) => [file.key, previewKey(file), thumbKey(file)].sort()

  describe(`derivatives on ${kind}`, () => {
    const servers = useServers(['s3mem'])
    let dataSource: DataSource
    let photos: Repository<Photo>
    let ledger: Repository<StoredObjectLedger>
    let store: ObjectStore
    let scratch: string
    let journal: LedgerJournal | undefined

    const stored = () => listKeys(store)

    beforeAll(async () => {
      store = makeS3(servers().s3mem!, { prefix: uniquePrefix(`derivatives-${kind}`) })
      storages.register(backend, store, { replace: true })
      scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'stowage-derivatives-'))
      const options = await dataSourceOptions(kind, 'stowage_derivatives', [Photo, StoredObjectLedger])
      // sql.js saved to a file, so its uploads are journaled beside it (an in-memory one keeps no journal).
      const location = path.join(scratch, 'photos.sqlite')
      if (kind === 'sqlite') journal = new LedgerJournal(location)
      dataSource = new StoredObjectDataSource(options.type === 'sqljs' ? { ...options, location, autoSave: true } : options)
      await dataSource.initialize()
      photos = dataSource.getRepository(Photo)
      ledger = dataSource.getRepository(StoredObjectLedger)
    })
    afterAll(async () => {
      await dataSource?.destroy()
      storages.unregister(backend)
      if (scratch) fs.rmSync(scratch, { recursive: true, force: true })
    })
    beforeEach(async () => {
      await photos.clear()
      const keys = await stored()
      if (keys.length > 0) await store.delete(keys)
    })
    // Every rule leaves the ledger empty: each upload committed or deleted, each delete done.
    afterEach(async () => {
      expect(await ledger.find()).toEqual([])
      if (journal !== undefined) expect(journal.pending()).toEqual([])
    })

    it('makes the derivatives at save, keeps them in the JSON beside the original, and loads them as FileObjects', async () => {
      const saved = await photos.save(photo('round trip', { image: image('holiday.png') }))
      const original = saved.image!
      expect(await stored()).toEqual(imageKeys(original))
      expect(Object.keys(original.derivatives).sort()).toEqual(['preview', 'thumb'])

      const loaded = (await photos.findOneByOrFail({ id: saved.id })).image!
      expect(loaded.equals(original)).toBe(true)
      const thumb = loaded.derivatives.thumb!
      expect(thumb).toBeInstanceOf(FileObject)
      expect(thumb.hasPendingContent).toBe(false)
      expect([thumb.backend, thumb.key, thumb.filename, thumb.contentType]).toEqual([backend, thumbKey(original), 'holiday-thumb.webp', 'image/webp'])
      const thumbBytes = await thumb.getContent()
      // A real, smaller image: 640x480 fitted into 128x128.
      expect(await dimensions(thumbBytes)).toEqual({ format: 'webp', width: 128, height: 96 })
      expect(thumb.size).toBe(thumbBytes.length)
      expect(thumb.checksum).toBe(sha256(thumbBytes))
      expect(thumb.etag).toBeTruthy()
      expect(thumb.lastModified).toBeInstanceOf(Date)
      const preview = loaded.derivatives.preview!
      const previewBytes = await preview.getContent()
      expect([preview.filename, preview.contentType]).toEqual(['holiday-preview.jpg', 'image/jpeg'])
      expect(await dimensions(previewBytes)).toEqual({ format: 'jpeg', width: 320, height: 240 })
      expect(preview.checksum).toBe(sha256(previewBytes))
      // The original is untouched by its derivatives.
      expect(await dimensions(await loaded.getContent())).toEqual({ format: 'png', width: 640, height: 480 })

      // A derivative is a FileObject like any other: a signed URL serves its bytes.
      const response = await fetch(await thumb.signUrl({ inline: true }))
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe('image/webp')
      expect(Buffer.from(await response.arrayBuffer()).equals(thumbBytes)).toBe(true)

      // What the column holds: the derivatives' JSON inside the original's.
      const raw = await dataSource.createQueryBuilder(Photo, 'p').select('p.image', 'image').where('p.id = :id', { id: saved.id }).getRawOne<{ image: unknown }>()
      const json = (typeof raw!.image === 'string' ? JSON.parse(raw!.image) : raw!.image) as { derivatives: Record<string, { key: string; size: number; contentType: string; etag: string; checksum: string }> }
      expect(json.derivatives.thumb).toMatchObject({ key: thumbKey(original), size: thumbBytes.length, contentType: 'image/webp', checksum: sha256(thumbBytes) })
      expect(json.derivatives.thumb!.etag).toBe(thumb.etag)
      expect(json.derivatives.preview).toMatchObject({ key: previewKey(original), size: previewBytes.length })
    })

    it('makes them for every new file of a multiple column, from streamed content too, and none where the function returns null', async () => {
      const streamed = new FileObject({ filename: 'streamed.png', content: Readable.from([png(200, 100)]) })
      const saved = await photos.save(photo('gallery', { gallery: [image('a.png', 300, 300), streamed, new FileObject({ filename: 'doc.pdf', content: pdf() })] }))
      const [a, b, doc] = saved.gallery
      expect(await stored()).toEqual([a!.key, thumbKey(a!), b!.key, thumbKey(b!), doc!.key].sort())
      const loaded = await photos.findOneByOrFail({ id: saved.id })
      expect(await dimensions(await loaded.gallery[0]!.derivatives.thumb!.getContent())).toEqual({ format: 'png', width: 64, height: 64 })
      expect(await dimensions(await loaded.gallery[1]!.derivatives.thumb!.getContent())).toEqual({ format: 'png', width: 64, height: 32 })
      expect(loaded.gallery[2]!.derivatives).toEqual({})

      // Added to the list later: its derivative is made then, the others stay as they were.
      loaded.gallery.push(image('c.png', 128, 256))
      await photos.save(loaded)
      const c = loaded.gallery[3]!
      expect(await stored()).toEqual([a!.key, thumbKey(a!), b!.key, thumbKey(b!), doc!.key, c.key, thumbKey(c)].sort())
      expect((await photos.findOneByOrFail({ id: saved.id })).gallery.map((f) => Object.keys(f.derivatives))).toEqual([['thumb'], ['thumb'], [], ['thumb']])
    })

    it('a rollback deletes the original and its derivatives', async () => {
      let inside: string[] = []
      let file!: FileObject
      await expect(
        dataSource.transaction(async (manager) => {
          const saved = await manager.save(photo('doomed', { image: image() }))
          file = saved.image!
          inside = await stored()
          throw new Error('user error')
        }),
      ).rejects.toThrow('user error')
      expect(inside).toEqual(imageKeys(file))
      expect(await stored()).toEqual([])
      expect(await photos.count()).toBe(0)
    })

    it('a rolled-back savepoint deletes the derivatives made inside it, and keeps the enclosing ones', async () => {
      let outerFile!: FileObject
      let innerFile!: FileObject
      await dataSource.transaction(async (outer) => {
        outerFile = (await outer.save(photo('outer', { image: image('outer.png') }))).image!
        await expect(
          outer.transaction(async (inner) => {
            innerFile = (await inner.save(photo('inner', { image: image('inner.png') }))).image!
            throw new Error('inner abort')
          }),
        ).rejects.toThrow('inner abort')
        expect(await stored()).toEqual(imageKeys(outerFile))
      })
      expect(await stored()).toEqual(imageKeys(outerFile))
      expect(await stored()).not.toContain(thumbKey(innerFile))
    })

    it('replacing a file deletes the old derivatives only after the commit; a rolled-back replace keeps them', async () => {
      const saved = await photos.save(photo('replace', { image: image('v1.png') }))
      const v1 = saved.image!
      let inside: string[] = []
      await dataSource.transaction(async (manager) => {
        saved.image = image('v2.png', 800, 400)
        await manager.save(saved)
        inside = await stored()
      })
      const v2 = saved.image!
      expect(inside).toEqual([...imageKeys(v1), ...imageKeys(v2)].sort())
      expect(await stored()).toEqual(imageKeys(v2))
      expect(await dimensions(await (await photos.findOneByOrFail({ id: saved.id })).image!.derivatives.thumb!.getContent())).toEqual({ format: 'webp', width: 128, height: 64 })

      await expect(
        dataSource.transaction(async (manager) => {
          saved.image = image('v3.png')
          await manager.save(saved)
          throw new Error('abort')
        }),
      ).rejects.toThrow('abort')
      expect(await stored()).toEqual(imageKeys(v2))
      expect((await photos.findOneByOrFail({ id: saved.id })).image!.key).toBe(v2.key)

      // A derivative dropped from a loaded file is a reference dropped: deleted after the commit.
      const loaded = await photos.findOneByOrFail({ id: saved.id })
      delete loaded.image!.derivatives.preview
      await photos.save(loaded)
      expect(await stored()).toEqual([v2.key, thumbKey(v2)].sort())
      expect(Object.keys((await photos.findOneByOrFail({ id: saved.id })).image!.derivatives)).toEqual(['thumb'])
    })

    it('setting the column to null deletes the file and its derivatives; remove() deletes every one of the row', async () => {
      const nulled = await photos.save(photo('nulled', { image: image() }))
      nulled.image = null
      await photos.save(nulled)
      expect(await stored()).toEqual([])

      const removed = await photos.save(photo('removed', { image: image(), gallery: [image('g.png', 50, 50)] }))
      expect(await stored()).toHaveLength(5)
      await photos.remove(removed)
      expect(await stored()).toEqual([])
      expect(await photos.count()).toBe(1)
    })

    it('a derivative that fails fails the save with a DerivativeError and leaves nothing behind', async () => {
      // Not an image: sharp refuses it, in the thumb's stream and in the preview's toBuffer().
      const notAnImage = new FileObject({ filename: 'notes.txt', content: 'plain text, no pixels' })
      const error = await photos.save(photo('broken', { image: notAnImage, gallery: [image('fine.png')] })).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(DerivativeError)
      expect((error as DerivativeError).code).toBe('DERIVATIVE_FAILED')
      expect(['thumb', 'preview']).toContain((error as DerivativeError).derivative)
      expect((error as DerivativeError).path).toBe(notAnImage.key)
      expect((error as Error).message).toMatch(/derivative "(thumb|preview)" of "notes\.txt"/)
      expect((error as Error).cause).toBeInstanceOf(Error)
      expect(await stored()).toEqual([])
      expect(await photos.count()).toBe(0)

      // The same without a transaction.
      const again = await photos.save(photo('broken', { image: new FileObject({ filename: 'x.txt', content: 'x' }) }), { transaction: false }).catch((e: unknown) => e)
      expect(again).toBeInstanceOf(DerivativeError)
      expect(await stored()).toEqual([])
      expect(await photos.count()).toBe(0)
    })

    it('sweepOrphans counts the derivatives as referenced', async () => {
      const saved = await photos.save(photo('swept', { image: image() }))
      await store.put('orphan.bin', 'nobody references me')
      const report = await sweepOrphans(dataSource, { backend, dryRun: false })
      expect(report.orphans.map((o) => o.path)).toEqual(['orphan.bin'])
      expect(report.referenced).toBe(3)
      expect(await stored()).toEqual(imageKeys(saved.image!))
    })

    it('reapLedger deletes the original and the derivatives of a save whose transaction never committed', async () => {
      let file!: FileObject
      let recorded: string[] = []
      let report!: Awaited<ReturnType<typeof reapLedger>>
      await expect(
        dataSource.transaction(async (manager) => {
          file = (await manager.save(photo('killed', { image: image() }))).image!
          // Recorded before the uploads: in the table, committed on their own (read on another
          // connection), or in the journal beside the sql.js file.
          recorded = (journal?.pending() ?? (await ledger.find()).filter((e) => e.kind === 'upload')).map((e) => e.key)
          // What a process killed here leaves: the database ends the transaction without the row,
          // and nothing of this process runs again. A ROLLBACK behind TypeORM's back does the
          // first, unseen by the subscriber; then the reaper runs, as a later process would.
          await manager.query('ROLLBACK')
          report = await reapLedger(dataSource, { olderThan: 0 })
          await manager.query(kind === 'mariadb' ? 'START TRANSACTION' : 'BEGIN')
          throw new Abandon()
        }),
      ).rejects.toBeInstanceOf(Abandon)
      expect(recorded.sort()).toEqual(imageKeys(file))
      expect(report.deletedUploads.map((o) => o.key).sort()).toEqual(imageKeys(file))
      expect(report.failed).toEqual([])
      expect(await stored()).toEqual([])
      expect(await photos.count()).toBe(0)
    })
  })
}
