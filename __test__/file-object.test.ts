import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { FileObject, LocalStore, MemoryStore, storages, type FileObjectJSON, type ObjectStore } from '../src/index.js'

const backend = 'file-object-test'

function sha256(data: string | Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`
}

async function keysOf(store: ObjectStore): Promise<string[]> {
  const keys: string[] = []
  for await (const meta of store.list()) keys.push(meta.path)
  return keys.sort()
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
})
