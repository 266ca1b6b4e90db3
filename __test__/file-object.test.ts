import { createHash } from 'node:crypto'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import sharp from 'sharp'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  ConfigError,
  DerivativeError,
  FileObject,
  LocalStore,
  MemoryStore,
  storages,
  type DerivativeSpecs,
  type FileObjectJSON,
  type ObjectStore,
} from '../src/index.js'
import { StoredObjectColumn } from '../src/typeorm/index.js'
import { png } from './fixtures/images.js'

const backend = 'file-object-test'

function sha256(data: string | Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`
}

async function keysOf(store: ObjectStore): Promise<string[]> {
  const keys: string[] = []
  for await (const meta of store.list()) keys.push(meta.path)
  return keys.sort()
}

/** Yields `bytes` in pieces of `size`, then fails with `error` when one is given. */
async function* pieces(bytes: Buffer, size: number, error?: Error): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size)
  if (error !== undefined) throw error
}

describe('FileObject', () => {
  let store: ObjectStore
  let dir: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-file-object-'))
  })
  afterAll(async () => {
    storages.unregister(backend)
    await rm(dir, { recursive: true, force: true })
  })
  beforeEach(() => {
    store = new MemoryStore()
    storages.register(backend, store, { replace: true })
  })

  it('uploads a Buffer and fills size, checksum, etag and lastModified', async () => {
    const content = Buffer.from('hello world')
    const file = new FileObject({ backend, filename: 'hello.txt', content })
    expect(file.hasPendingContent).toBe(true)
    expect(await file.save()).toBe(file)
    expect(file.hasPendingContent).toBe(false)
    expect(file.size).toBe(11)
    expect(file.checksum).toBe(sha256(content))
    expect(file.lastModified).toBeInstanceOf(Date)
    expect(await keysOf(store)).toEqual([file.key])
    expect((await file.getContent()).toString()).toBe('hello world')
  })

  it('uploads a string, a Readable, a web ReadableStream and an async iterable', async () => {
    async function* generate() {
      yield Buffer.from('gen')
      yield new Uint8Array([101, 114])
    }
    const sources = {
      'string.txt': ['a string', 'a string'],
      'readable.txt': [Readable.from([Buffer.from('read'), Buffer.from('able')]), 'readable'],
      'web.txt': [new Blob(['web stream']).stream(), 'web stream'],
      'iterable.txt': [generate(), 'gener'],
    } as const
    for (const [filename, [content, expected]] of Object.entries(sources)) {
      const file = await new FileObject({ backend, filename, content }).save()
      expect(file.checksum, filename).toBe(sha256(expected))
      expect(file.size, filename).toBe(Buffer.byteLength(expected))
      expect((await file.getContent()).toString(), filename).toBe(expected)
    }
    expect(await keysOf(store)).toHaveLength(4)
  })

  it('streams a file on disk (sourcePath) and takes its name from the path', async () => {
    const path = join(dir, 'photo.jpg')
    const bytes = Buffer.alloc(3 * 1024 * 1024 + 7, 7)
    await writeFile(path, bytes)
    const progress: Array<{ loaded: number; total?: number }> = []
    const file = await new FileObject({ backend, sourcePath: path }).save({ onProgress: (p) => progress.push(p) })
    expect(file.filename).toBe('photo.jpg')
    expect(file.contentType).toBe('image/jpeg')
    expect(file.size).toBe(bytes.length)
    expect(file.checksum).toBe(sha256(bytes))
    expect((await file.getContent()).equals(bytes)).toBe(true)
    if (progress.length > 0) expect(progress.at(-1)!.total).toBe(bytes.length)
  })

  it('gives two uploads of the same filename different keys ending in the sanitized name', async () => {
    const a = await new FileObject({ backend, filename: 'report.pdf', content: 'a' }).save()
    const b = await new FileObject({ backend, filename: 'report.pdf', content: 'b' }).save()
    expect(a.key).not.toBe(b.key)
    expect(a.key).toMatch(/^[0-9a-f-]{36}\/report\.pdf$/)
    expect((await a.getContent()).toString()).toBe('a')
    const odd = new FileObject({ backend, filename: '../Résumé (final)?.PDF', content: 'x' })
    expect(odd.key).toMatch(/^[0-9a-f-]{36}\/Resume_final_.PDF$/)
    expect(odd.filename).toBe('../Résumé (final)?.PDF')
    expect(new FileObject({ backend, filename: 'x.txt', keyPrefix: 'docs/', content: '' }).key).toMatch(/^docs\/[0-9a-f-]{36}\/x\.txt$/)
  })

  it('guesses the content type from the filename unless given', () => {
    expect(new FileObject({ backend, filename: 'a.pdf', content: '' }).contentType).toBe('application/pdf')
    expect(new FileObject({ backend, filename: 'a.png', content: '' }).contentType).toBe('image/png')
    expect(new FileObject({ backend, filename: 'noext', content: '' }).contentType).toBe('application/octet-stream')
    expect(new FileObject({ backend, filename: 'a.pdf', content: '', contentType: 'text/x-custom' }).contentType).toBe('text/x-custom')
  })

  it('keeps the original filename and metadata through JSON', async () => {
    const file = await new FileObject({ backend, filename: 'Q3 report.pdf', content: 'q3', metadata: { owner: 'ann' } }).save()
    const json = JSON.parse(JSON.stringify(file)) as FileObjectJSON
    expect(json).toMatchObject({ backend, key: file.key, filename: 'Q3 report.pdf', size: 2, checksum: sha256('q3'), metadata: { owner: 'ann' } })
    expect(json).not.toHaveProperty('content')
    const back = FileObject.fromJSON(json)
    expect(back.hasPendingContent).toBe(false)
    expect(back.filename).toBe('Q3 report.pdf')
    expect(back.lastModified?.getTime()).toBe(file.lastModified?.getTime())
    expect(back.equals(file)).toBe(true)
    expect(FileObject.fromJSON(JSON.stringify(json)).equals(file)).toBe(true)
    expect((await back.getContent()).toString()).toBe('q3')
  })

  it('compares by stored metadata; a file with pending content equals only itself', async () => {
    const saved = await new FileObject({ backend, filename: 'a.txt', content: 'a' }).save()
    const copy = FileObject.fromJSON(saved.toJSON())
    expect(saved.equals(copy)).toBe(true)
    copy.metadata = { changed: 'yes' }
    expect(saved.equals(copy)).toBe(false)
    const pending = new FileObject({ backend, key: saved.key, filename: 'a.txt', content: 'b' })
    expect(pending.equals(pending)).toBe(true)
    expect(pending.equals(FileObject.fromJSON(pending.toJSON()))).toBe(false)
    expect(saved.equals(saved.toJSON())).toBe(false)
  })

  it('reads back with stream() and deletes with delete()', async () => {
    const file = await new FileObject({ backend, filename: 's.txt', content: 'streamed back' }).save()
    const chunks: Buffer[] = []
    for await (const chunk of file.stream()) chunks.push(Buffer.from(chunk as Buffer)) // a binary Readable: Buffers
    expect(Buffer.concat(chunks).toString()).toBe('streamed back')
    await file.delete()
    expect(await keysOf(store)).toEqual([])
  })

  it('works on a LocalStore', async () => {
    const root = join(dir, 'local')
    storages.register('file-object-local', new LocalStore(root, { mkdir: true }), { replace: true })
    try {
      const file = await new FileObject({ backend: 'file-object-local', filename: 'disk.txt', content: 'on disk' }).save()
      expect((await FileObject.fromJSON(file.toJSON()).getContent()).toString()).toBe('on disk')
      expect(file.checksum).toBe(sha256('on disk'))
    } finally {
      storages.unregister('file-object-local')
    }
  })

  it('refuses to save without a backend, and content together with sourcePath', async () => {
    await expect(new FileObject({ filename: 'x.txt', content: 'x' }).save()).rejects.toThrow(/no backend/)
    expect(() => new FileObject({ backend, filename: 'x', content: 'x', sourcePath: '/tmp/x' })).toThrow(/either content or sourcePath/)
  })

  it('is recognised across copies of the class', () => {
    const file = new FileObject({ backend, filename: 'a', content: '' })
    expect(FileObject.isFileObject(file)).toBe(true)
    expect(FileObject.isFileObject(file.toJSON())).toBe(false)
    expect(file instanceof FileObject).toBe(true)
  })

  // FileObject.save({ derivatives }); their TypeORM lifecycle is in __test__/typeorm/derivatives.ts.
  describe('save({ derivatives })', () => {
    it("hands each function the original's bytes and the saved original, and stores what it returns beside it", async () => {
      const content = png(300, 200)
      const seen: Array<{ source: Buffer; size: number | undefined; checksum: string | undefined; contentType: string }> = []
      const file = new FileObject({ backend, filename: 'chart.png', content })
      await file.save({
        derivatives: {
          small: (source, original) => {
            seen.push({ source, size: original.size, checksum: original.checksum, contentType: original.contentType })
            return sharp(source).resize(30).png().toBuffer()
          },
          caption: () => ({ content: Buffer.from('a chart'), contentType: 'text/plain; charset=utf-8' }),
          none: () => null,
        },
      })
      expect(seen).toEqual([{ source: content, size: content.length, checksum: sha256(content), contentType: 'image/png' }])
      expect(Object.keys(file.derivatives).sort()).toEqual(['caption', 'small'])
      expect(await keysOf(store)).toEqual([file.key, `${file.key}.derivatives/caption`, `${file.key}.derivatives/small`].sort())

      const small = file.derivatives.small!
      const smallBytes = await small.getContent()
      expect([small.key, small.filename, small.contentType, small.size, small.checksum]).toEqual([
        `${file.key}.derivatives/small`, 'chart-small.png', 'image/png', smallBytes.length, sha256(smallBytes),
      ])
      expect((await sharp(smallBytes).metadata()).width).toBe(30)
      const caption = file.derivatives.caption!
      expect([caption.filename, caption.contentType, (await caption.getContent()).toString()]).toEqual(['chart-caption.txt', 'text/plain; charset=utf-8', 'a chart'])
      expect((await store.get(caption.key)).attributes.contentType).toBe('text/plain; charset=utf-8')
    })

    it('reads a streamed or on-disk original back from the store for its derivatives, and tells a streamed output\'s type from its first bytes', async () => {
      const image = png(400, 100)
      const path = join(dir, 'banner.png')
      await writeFile(path, image)
      const copyInPieces: DerivativeSpecs = {
        copy: (source) => Readable.from(pieces(source, 1000)),
        unknown: () => pieces(Buffer.from('no known format here'), 4),
      }
      for (const file of [
        new FileObject({ backend, sourcePath: path }),
        new FileObject({ backend, filename: 'banner.png', content: Readable.from(pieces(image, 4096)) }),
      ]) {
        await file.save({ derivatives: copyInPieces })
        const copy = file.derivatives.copy!
        expect((await copy.getContent()).equals(image)).toBe(true)
        expect([copy.contentType, copy.filename, copy.size]).toEqual(['image/png', 'banner-copy.png', image.length])
        expect([file.derivatives.unknown!.contentType, file.derivatives.unknown!.filename]).toEqual(['application/octet-stream', 'banner-unknown'])
      }
    })

    it('works on a LocalStore, whose key for the original is a file beside the derivatives\' directory', async () => {
      const local = new LocalStore(join(dir, 'derivatives-local'), { mkdir: true })
      storages.register(backend, local, { replace: true })
      const file = await new FileObject({ backend, filename: 'a.png', content: png(10, 10) }).save({ derivatives: { same: (source) => source } })
      expect(await keysOf(local)).toEqual([file.key, `${file.key}.derivatives/same`])
      expect((await file.derivatives.same!.getContent()).equals(await file.getContent())).toBe(true)
    })

    describe('a derivative that fails fails the save and leaves nothing behind', () => {
      const cases: Array<[string, DerivativeSpecs, RegExp]> = [
        ['its function throws', { bad: () => { throw new RangeError('no pixels') } }, /derivative "bad" of "in\.png" failed: no pixels/],
        ['its function rejects', { bad: () => Promise.reject(new Error('gave up')) }, /derivative "bad" of "in\.png" failed: gave up/],
        ['it returns what is not content', { bad: () => 42 as unknown as Buffer }, /derivative "bad" of "in\.png" returned 42, not content/],
        ['it returns a string', { bad: () => 'text' as unknown as Buffer }, /derivative "bad" of "in\.png" returned a string of 4 characters, not content/],
        ['it returns { content } of what is not content', { bad: () => ({ content: {} as Buffer }) }, /returned an object \(Object\), not content/],
        ['its stream fails before its first bytes are in', { bad: () => pieces(Buffer.alloc(0), 1, new Error('decoder died')) }, /derivative "bad" of "in\.png" failed: decoder died/],
        ['its stream fails while it uploads', { bad: () => ({ content: pieces(Buffer.alloc(64 * 1024, 1), 1024, new Error('late failure')), contentType: 'image/png' }) }, /derivative "bad" of "in\.png" failed while its stream was read: late failure/],
        ['it gives an empty content type', { bad: () => ({ content: Buffer.from('x'), contentType: '' }) }, /contentType that is not a non-empty string/],
      ]
      it.each(cases)('%s', async (_what, derivatives, message) => {
        const root = join(dir, `fail-${Math.random().toString(36).slice(2)}`)
        const local = new LocalStore(root, { mkdir: true })
        storages.register(backend, local, { replace: true })
        const file = new FileObject({ backend, filename: 'in.png', content: png(20, 20) })
        // A good derivative beside the bad one: it is deleted again too.
        const error = await file.save({ derivatives: { good: (source) => source, ...derivatives } }).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(DerivativeError)
        expect(error).toMatchObject({ code: 'DERIVATIVE_FAILED', derivative: 'bad', path: file.key })
        expect((error as Error).message).toMatch(message)
        expect(await keysOf(local)).toEqual([])
        // No temporary file left either.
        expect((await readdir(root, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name)).toEqual([])
        // The file is as before the save: still pending, nothing filled in.
        expect([file.hasPendingContent, file.size, file.checksum, file.derivatives]).toEqual([true, undefined, undefined, {}])
      })
    })

    it('refuses derivatives that are not an object of functions with key-safe names, with a ConfigError', async () => {
      const file = new FileObject({ backend, filename: 'x.txt', content: 'x' })
      for (const derivatives of [[], 'thumb', { 'a/b': () => null }, { '': () => null }, { _x: () => null }, { thumb: 'not a function' }]) {
        await expect(file.save({ derivatives: derivatives as unknown as DerivativeSpecs })).rejects.toBeInstanceOf(ConfigError)
      }
      expect(await keysOf(store)).toEqual([])
      expect(() => StoredObjectColumn({ backend, derivatives: { 'thumb.png': () => null } })).toThrow(ConfigError)
    })

    it('carries derivatives through toJSON, fromJSON and equals', async () => {
      const file = await new FileObject({ backend, filename: 'p.png', content: png(8, 8) }).save({ derivatives: { thumb: (source) => sharp(source).resize(4).png() } })
      const json = JSON.parse(JSON.stringify(file)) as FileObjectJSON
      expect(json.derivatives?.thumb).toEqual(file.derivatives.thumb!.toJSON())
      expect(json.derivatives?.thumb).toMatchObject({ backend, key: `${file.key}.derivatives/thumb`, contentType: 'image/png', size: file.derivatives.thumb!.size })
      const back = FileObject.fromJSON(json)
      expect(back.equals(file)).toBe(true)
      expect(back.derivatives.thumb).toBeInstanceOf(FileObject)
      expect((await back.derivatives.thumb!.getContent()).equals(await file.derivatives.thumb!.getContent())).toBe(true)

      const without = FileObject.fromJSON({ ...json, derivatives: undefined })
      expect(without.derivatives).toEqual({})
      expect(without.equals(file)).toBe(false)
      expect(FileObject.fromJSON({ ...json, derivatives: { thumb: { ...json.derivatives!.thumb!, size: 1 } } }).equals(file)).toBe(false)
      // Only names a save can make: never a property that reaches the prototype.
      expect(() => FileObject.fromJSON(`{"backend":"b","key":"k","filename":"f","derivatives":{"__proto__":{"backend":"b","key":"x"}}}`)).toThrow(TypeError)
      expect(() => FileObject.fromJSON({ ...json, derivatives: [] as unknown as Record<string, FileObjectJSON> })).toThrow(TypeError)
    })
  })
})
