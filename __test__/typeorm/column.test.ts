import { Entity, PrimaryGeneratedColumn } from 'typeorm'
import { describe, expect, it } from 'vitest'
import { FileObject } from '../../src/index.js'
import { FileValidationError, StoredObjectColumn, StoredObjectTransformer, storedObjectColumnType } from '../../src/typeorm/index.js'
import { png } from '../fixtures/images.js'
import { listKeys, openDataSource, type DatabaseKind } from './databases.js'
import { useStoredObjectSuite } from './stored-object-suite.js'

const backend = 'column-test'

@Entity({ name: 'column_avatar' })
class Avatar {
  @PrimaryGeneratedColumn()
  id!: number

  // image/* is checked against the bytes too: the tests give it a real PNG.
  @StoredObjectColumn({ backend, nullable: true, maxSize: 1024, allowedContentTypes: ['image/*'] })
  image!: FileObject | null

  @StoredObjectColumn({ backend, multiple: true, maxSize: 20 })
  extras!: FileObject[]
}

describe('StoredObjectColumn on SQLite', () => {
  const ctx = useStoredObjectSuite({
    driver: 'sqlite',
    database: 'stowage_column',
    entities: [Avatar],
    backend,
    repositories: { avatars: Avatar },
  })

  it('stores the metadata as JSON text, never the bytes', async () => {
    const bytes = png(2, 2)
    const saved = await ctx.avatars.save(Object.assign(new Avatar(), { image: new FileObject({ filename: 'a.png', content: bytes }) }))
    const [row] = await ctx.dataSource.query<Array<{ image: unknown; extras: string }>>('SELECT image, extras FROM column_avatar WHERE id = ?', [saved.id])
    expect(typeof row!.image).toBe('string')
    const json = JSON.parse(row!.image as string) as Record<string, unknown>
    expect(json).toMatchObject({ backend, key: saved.image.key, filename: 'a.png', contentType: 'image/png', size: bytes.length })
    expect(json.checksum).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(json).not.toHaveProperty('content')
    expect(Object.values(json)).not.toContain(bytes.toString('base64'))
    expect(JSON.parse(row!.extras)).toEqual([])
  })

  it('refuses a file over maxSize before uploading anything or writing the row', async () => {
    const avatar = Object.assign(new Avatar(), {
      image: new FileObject({ filename: 'ok.png', content: png(1, 1) }),
      extras: [new FileObject({ filename: 'big.bin', content: Buffer.alloc(21) })],
    })
    const error = await ctx.avatars.save(avatar).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(FileValidationError)
    expect((error as FileValidationError).code).toBe('FILE_TOO_LARGE')
    expect((error as Error).message).toMatch(/big\.bin.*21 bytes exceeds maxSize of 20/)
    expect(await listKeys(ctx.store)).toEqual([])
    expect(await ctx.avatars.count()).toBe(0)
  })

  it('refuses a content type outside allowedContentTypes before uploading anything', async () => {
    const avatar = Object.assign(new Avatar(), { image: new FileObject({ filename: 'notes.txt', content: 'hi' }) })
    const error = await ctx.avatars.save(avatar).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(FileValidationError)
    expect((error as FileValidationError).code).toBe('CONTENT_TYPE_NOT_ALLOWED')
    expect((error as Error).message).toMatch(/text\/plain.*not allowed.*image\/\*/)
    expect(await listKeys(ctx.store)).toEqual([])
    expect(await ctx.avatars.count()).toBe(0)
  })

  it('aborts a stream that grows past maxSize and leaves nothing behind', async () => {
    async function* tooMuch() {
      for (let i = 0; i < 5; i++) yield Buffer.alloc(300)
    }
    const avatar = Object.assign(new Avatar(), { image: new FileObject({ filename: 'stream.png', content: tooMuch() }) })
    await expect(ctx.avatars.save(avatar)).rejects.toThrow(FileValidationError)
    expect(await listKeys(ctx.store)).toEqual([])
    expect(await ctx.avatars.count()).toBe(0)
  })

  it('fills in the backend of a FileObject made without one', async () => {
    const saved = await ctx.avatars.save(Object.assign(new Avatar(), { image: new FileObject({ filename: 'x.png', content: png(1, 1) }) }))
    expect(saved.image.backend).toBe(backend)
    expect((await ctx.avatars.findOneByOrFail({ id: saved.id })).image!.backend).toBe(backend)
  })
})

describe('StoredObjectTransformer', () => {
  const single = new StoredObjectTransformer({ backend })
  const multiple = new StoredObjectTransformer({ backend, multiple: true })

  it('converts to fresh JSON each time and back to FileObjects', () => {
    const file = FileObject.fromJSON({ backend, key: 'k/a.txt', filename: 'a.txt', size: 1 })
    const first = single.to(file)
    expect(first).toEqual(file.toJSON())
    expect(single.to(file)).not.toBe(first)
    expect(single.from(first)).toBeInstanceOf(FileObject)
    expect((single.from(JSON.stringify(first)) as FileObject).equals(file)).toBe(true)
    expect(multiple.to([file])).toEqual([file.toJSON()])
    expect(multiple.from(null)).toEqual([])
    expect(single.from(null)).toBeNull()
    expect(single.to(undefined)).toBeUndefined()
  })

  it('picks jsonb on PostgreSQL, json on MySQL/MariaDB and SQLite', () => {
    expect(storedObjectColumnType('postgres')).toBe('jsonb')
    expect(storedObjectColumnType('mariadb')).toBe('json')
    expect(storedObjectColumnType('mysql')).toBe('json')
    expect(storedObjectColumnType('sqljs')).toBe('json')
    expect(storedObjectColumnType('better-sqlite3')).toBe('json')
  })
})

@Entity({ name: 'column_type_probe' })
class Probe {
  @PrimaryGeneratedColumn()
  id!: number

  @StoredObjectColumn({ backend, nullable: true })
  file!: FileObject | null
}

const columnTypeQuery: Record<Exclude<DatabaseKind, 'sqlite'>, string> = {
  postgres: `SELECT data_type AS type FROM information_schema.columns WHERE table_schema = 'stowage_column' AND table_name = 'column_type_probe' AND column_name = 'file'`,
  mariadb: `SELECT CHECK_CLAUSE AS type FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = 'stowage_column' AND TABLE_NAME = 'column_type_probe'`,
}

describe.each(['postgres', 'mariadb'] as const)('StoredObjectColumn type on %s', (kind) => {
  it('is the native JSON type', async () => {
    const dataSource = await openDataSource(kind, 'stowage_column', [Probe])
    try {
      const [row] = await dataSource.query<Array<{ type: unknown }>>(columnTypeQuery[kind])
      // MariaDB's JSON is LONGTEXT with a json_valid() check.
      expect(String(row!.type)).toMatch(kind === 'postgres' ? /^jsonb$/ : /json_valid\(`file`\)/)
    } finally {
      await dataSource.destroy()
    }
  })
})
