import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Entity, PrimaryGeneratedColumn, type DataSource, type Repository } from 'typeorm'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { FileObject, LocalStore, storages, type ObjectStore } from '../../src/index.js'
import { FileValidationError, StoredObjectColumn, type FileValidationCode } from '../../src/typeorm/index.js'
import { makeS3, pendingUploads, uniquePrefix, useServers, type S3Server } from '../cloud/helpers.js'
import { gif, jpeg, pdf, png } from '../fixtures/images.js'
import { listKeys, openDataSource, type DatabaseKind } from './databases.js'

const MiB = 1024 * 1024
const CHUNK = 64 * 1024

/** A source of `chunks` (cut to CHUNK-sized pieces) that counts the bytes pulled from it. */
function countingSource(...parts: Array<Buffer | { zeros: number }>): { source: AsyncGenerator<Buffer>; pulled: () => number } {
  let pulled = 0
  async function* generate(): AsyncGenerator<Buffer> {
    for (const part of parts) {
      if (Buffer.isBuffer(part)) {
        for (let at = 0; at < part.length; at += CHUNK) {
          const chunk = part.subarray(at, at + CHUNK)
          pulled += chunk.length
          yield chunk
        }
      } else {
        for (let left = part.zeros; left > 0; left -= CHUNK) {
          const chunk = Buffer.alloc(Math.min(CHUNK, left))
          pulled += chunk.length
          yield chunk
        }
      }
    }
  }
  return { source: generate(), pulled: () => pulled }
}

/** Every file under `dir`, temporary ones included. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name))
}

interface StoreUnderTest {
  store: ObjectStore
  /** What the server holds beyond the listed objects: open multipart uploads, files on disk. */
  leftovers(keys: string[]): Promise<number>
}

/**
 * The content checks of `@StoredObjectColumn` (docs/typeorm.md, "Validation") against one
 * database, on LocalStore and on the S3 emulator. Every refusal is asserted on the server: no
 * object, no open upload, no temporary file, no row.
 */
export function describeContentValidation(kind: DatabaseKind): void {
  const backend = `content-${kind}`

  @Entity({ name: 'content_validation_profile' })
  class Profile {
    @PrimaryGeneratedColumn()
    id!: number

    @StoredObjectColumn({
      backend,
      nullable: true,
      keyPrefix: 'avatars',
      maxSize: MiB,
      allowedContentTypes: ['image/png', 'image/jpeg', 'image/gif'],
      maxImageWidth: 640,
      maxImageHeight: 480,
    })
    avatar!: FileObject | null

    @StoredObjectColumn({ backend, multiple: true, allowedContentTypes: ['text/csv', 'application/pdf', 'application/octet-stream'] })
    documents!: FileObject[]
  }

  const targets: Array<[string, (servers: () => { s3mem?: S3Server }) => Promise<StoreUnderTest & { close(): Promise<void> }>]> = [
    [
      'LocalStore',
      async () => {
        const root = await mkdtemp(join(tmpdir(), 'stowage-content-'))
        return {
          store: new LocalStore(root),
          leftovers: async () => (await filesUnder(root)).length - (await listKeys(new LocalStore(root))).length,
          close: () => rm(root, { recursive: true, force: true }),
        }
      },
    ],
    [
      'S3 (s3-mem-server)',
      async (servers) => {
        const server = servers().s3mem!
        const prefix = uniquePrefix(`content-${kind}`)
        return {
          store: makeS3(server, { prefix }),
          leftovers: async (keys) => {
            let open = 0
            for (const key of keys) open += await pendingUploads(server, `${prefix}/${key}`)
            return open
          },
          close: async () => {},
        }
      },
    ],
  ]

  describe.each(targets)(`content validation on ${kind}, %s`, (_label, open) => {
    const servers = useServers(['s3mem'])
    let dataSource: DataSource
    let profiles: Repository<Profile>
    let target: StoreUnderTest & { close(): Promise<void> }

    beforeAll(async () => {
      target = await open(servers)
      storages.register(backend, target.store, { replace: true })
      dataSource = await openDataSource(kind, 'stowage_content', [Profile])
      profiles = dataSource.getRepository(Profile)
    })
    afterAll(async () => {
      await dataSource?.destroy()
      await target?.close()
      storages.unregister(backend)
    })
    beforeEach(async () => {
      await profiles.clear()
      const keys = await listKeys(target.store)
      if (keys.length > 0) await target.store.delete(keys)
    })

    /** Saves `profile`, expects the refusal `code`, and that neither storage nor the table kept anything. */
    async function expectRefused(profile: Partial<Profile>, code: FileValidationCode, message?: RegExp): Promise<void> {
      const files = [profile.avatar, ...(profile.documents ?? [])].filter((f): f is FileObject => f instanceof FileObject)
      const error = await profiles.save(Object.assign(new Profile(), profile)).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(FileValidationError)
      expect((error as FileValidationError).code).toBe(code)
      if (message) expect((error as Error).message).toMatch(message)
      expect(await listKeys(target.store)).toEqual([])
      expect(await target.leftovers(files.map((f) => f.key))).toBe(0)
      expect(await profiles.count()).toBe(0)
    }

    it('keeps images, CSV and PDF whose bytes agree with their type and the limits', async () => {
      const saved = await profiles.save(
        Object.assign(new Profile(), {
          avatar: new FileObject({ filename: 'me.png', content: countingSource(png(640, 480)).source }),
          documents: [
            new FileObject({ filename: 'scores.csv', content: 'name,score\nana,3\n' }),
            new FileObject({ filename: 'paper.pdf', content: pdf() }),
          ],
        }),
      )
      const loaded = await profiles.findOneByOrFail({ id: saved.id })
      expect(loaded.avatar!.contentType).toBe('image/png')
      expect((await loaded.avatar!.getContent()).equals(png(640, 480))).toBe(true)
      expect(loaded.documents.map((d) => d.contentType)).toEqual(['text/csv', 'application/pdf'])
      expect(await listKeys(target.store)).toHaveLength(3)
    })

    it('refuses bytes that contradict the declared type (CONTENT_MISMATCH), from bytes and from a stream', async () => {
      await expectRefused({ avatar: new FileObject({ filename: 'me.png', content: pdf() }) }, 'CONTENT_MISMATCH', /"me\.png" is declared as "image\/png".*application\/pdf/)
      const { source } = countingSource(gif(10, 10), { zeros: 3 * MiB })
      await expectRefused({ documents: [new FileObject({ filename: 'data.csv', content: source })] }, 'CONTENT_MISMATCH', /image\/gif/)
    })

    it('refuses bytes outside the allowed list though the declared type is allowed (CONTENT_TYPE_NOT_ALLOWED)', async () => {
      // application/octet-stream claims nothing, so the bytes are what is checked.
      const { source } = countingSource(gif(10, 10), { zeros: MiB })
      await expectRefused(
        { documents: [new FileObject({ filename: 'blob', contentType: 'application/octet-stream', content: source })] },
        'CONTENT_TYPE_NOT_ALLOWED',
        /image\/gif, which is not allowed/,
      )
    })

    it('refuses an image over the width or height limit while streaming it (IMAGE_TOO_LARGE)', async () => {
      const wide = countingSource(png(641, 10))
      await expectRefused({ avatar: new FileObject({ filename: 'wide.png', content: wide.source }) }, 'IMAGE_TOO_LARGE', /641x10 pixels, over the limit of 640x480/)
      // A JPEG's size comes after 300 KB of EXIF segments here: read that far, and no further.
      const tall = countingSource(jpeg(100, 5000, 300_000), { zeros: 5 * MiB })
      await expectRefused({ avatar: new FileObject({ filename: 'tall.jpg', content: tall.source }) }, 'IMAGE_TOO_LARGE', /100x5000/)
      expect(tall.pulled()).toBeLessThan(600 * 1024)
    })

    it('checks a file on disk (sourcePath) from its first bytes before uploading it', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'stowage-content-source-'))
      try {
        const wide = join(dir, 'wide.png')
        await writeFile(wide, Buffer.concat([png(2000, 2), Buffer.alloc(300_000)]))
        await expectRefused({ avatar: new FileObject({ sourcePath: wide }) }, 'IMAGE_TOO_LARGE', /2000x2 pixels/)
        const fine = join(dir, 'fine.gif')
        await writeFile(fine, gif(640, 480))
        const saved = await profiles.save(Object.assign(new Profile(), { avatar: new FileObject({ sourcePath: fine }) }))
        expect(saved.avatar.contentType).toBe('image/gif')
        expect(await listKeys(target.store)).toEqual([saved.avatar.key])
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    })

    it('refuses a 50 MiB stream over a 1 MiB maxSize after reading little more than 1 MiB', async () => {
      const huge = countingSource(png(64, 64), { zeros: 50 * MiB })
      await expectRefused({ avatar: new FileObject({ filename: 'huge.png', content: huge.source }) }, 'FILE_TOO_LARGE', /exceeds maxSize of 1048576/)
      expect(huge.pulled()).toBeGreaterThan(MiB)
      expect(huge.pulled()).toBeLessThanOrEqual(MiB + CHUNK)
    })

    it('leaves none of a row\'s files behind when one stream is refused while the others upload', async () => {
      const bad = countingSource(gif(10, 10), { zeros: 2 * MiB })
      await expectRefused(
        {
          avatar: new FileObject({ filename: 'ok.gif', content: gif(20, 20) }),
          documents: [new FileObject({ filename: 'a.csv', content: 'a,b\n' }), new FileObject({ filename: 'b.pdf', content: bad.source })],
        },
        'CONTENT_MISMATCH',
        /"b\.pdf" is declared as "application\/pdf"/,
      )
      expect(bad.pulled()).toBeLessThan(MiB)
    })
  })
}
