/**
 * The conformance suite: one set of behaviours every backend must show.
 * Each backend's test file calls `describeConformance` with a factory; what the suite
 * expects follows the store's own `capabilities` (from Rust): a missing capability must
 * give NOT_SUPPORTED or be documented, never silently differ.
 */
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import nodePath from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Capabilities, ObjectMeta, ObjectStore } from '../../src/index.js'
import { StorageError } from '../../src/index.js'

/** Where a test server differs from the service it stands in for (not the store's doing). */
export interface ServerQuirks {
  /** The server ignores conditional GET headers (s3s-fs). */
  ignoresConditionalGets?: boolean
  /** The server cannot serve the URLs the store signs (fake-gcs-server: GCS URLs name storage.googleapis.com). */
  cannotServeSignedUrls?: boolean
}

export interface Backend {
  store: ObjectStore
  quirks?: ServerQuirks
  /** Called once after the suite; removes what the suite wrote. */
  cleanup?: () => Promise<void>
}

const MiB = 1024 * 1024

async function collect(iterable: AsyncIterable<ObjectMeta>): Promise<ObjectMeta[]> {
  const out: ObjectMeta[] = []
  for await (const entry of iterable) out.push(entry)
  return out
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<StorageError> {
  const err = await promise.then(
    () => { throw new Error(`expected a ${code} StorageError, but the call succeeded`) },
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(StorageError)
  expect((err as StorageError).code).toBe(code)
  return err as StorageError
}

/** A Readable of `size` random bytes in fresh chunks of `chunk` bytes. */
export function randomReadable(size: number, chunk = 256 * 1024): { stream: Readable; digest: () => string } {
  const hash = createHash('sha256')
  let left = size
  const stream = new Readable({
    read() {
      if (left === 0) return void this.push(null)
      const piece = randomBytes(Math.min(chunk, left))
      left -= piece.length
      hash.update(piece)
      this.push(piece)
    },
  })
  return { stream, digest: () => hash.digest('hex') }
}

export function describeConformance(name: string, makeBackend: () => Promise<Backend>): void {
  describe(`conformance: ${name}`, () => {
    let backend: Backend
    let store: ObjectStore
    let caps: Capabilities
    let quirks: ServerQuirks
    // Every key lives under a fresh root so reruns against a shared server never collide.
    const root = `conformance-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
    const key = (k: string) => `${root}/${k}`

    beforeAll(async () => {
      backend = await makeBackend()
      store = backend.store
      // What the store says it can do decides what the suite expects of it: a claim it
      // cannot keep fails the test, and so does a capability it has but denies.
      caps = store.capabilities
      quirks = backend.quirks ?? {}
    })

    afterAll(async () => {
      if (!store) return
      const left = await collect(store.list(root))
      if (left.length) await store.delete(left.map((m) => m.path))
      await backend.cleanup?.()
    })

    describe('round trips', () => {
      it('empty chunks anywhere in a stream are harmless', async () => {
        const empty = Buffer.alloc(0)
        const cases: Array<[Buffer[], string]> = [
          [[empty, Buffer.from('x')], 'x'],
          [[Buffer.from('a'), empty, empty, Buffer.from('b'), empty], 'ab'],
          [[empty, empty], ''],
        ]
        for (const [index, [chunks, expected]] of cases.entries()) {
          const path = key(`empty-chunks/${index}`)
          await store.put(path, Readable.from(chunks))
          expect(await (await store.get(path)).text()).toBe(expected)
          await pipeline(Readable.from(chunks), store.createWriteStream(`${path}-w`))
          expect(await (await store.get(`${path}-w`)).text()).toBe(expected)
        }
      })

      for (const [label, size] of [['empty', 0], ['1 byte', 1], ['5 MiB + 1', 5 * MiB + 1], ['64 MiB', 64 * MiB]] as const) {
        it(`${label}: Buffer in, bytes/stream/createReadStream out`, async () => {
          const data = randomBytes(size)
          const path = key(`sizes/${size}.bin`)
          const put = await store.put(path, data)
          expect(put).toBeTypeOf('object')
          const head = await store.head(path)
          expect(head.size).toBe(size)
          expect(head.path).toBe(path)
          expect(head.lastModified).toBeInstanceOf(Date)
          const got = await store.get(path)
          expect(got.meta.size).toBe(size)
          expect(got.range).toEqual({ start: 0, end: size })
          const bytes = await got.bytes()
          expect(bytes.length).toBe(size)
          expect(sha256(bytes)).toBe(sha256(data))

          const webChunks: Uint8Array[] = []
          for await (const chunk of (await store.get(path)).stream() as unknown as AsyncIterable<Uint8Array>) webChunks.push(chunk)
          expect(sha256(Buffer.concat(webChunks))).toBe(sha256(data))

          const nodeChunks: Buffer[] = []
          for await (const chunk of store.createReadStream(path)) nodeChunks.push(chunk as Buffer)
          expect(sha256(Buffer.concat(nodeChunks))).toBe(sha256(data))
        })
      }

      it('keeps what was put, not the caller\'s Buffer: reusing it afterwards changes nothing', async () => {
        const path = key('reuse/buffer.txt')
        const data = Buffer.from('original bytes')
        await store.put(path, data)
        data.fill(0x78)
        expect((await (await store.get(path)).bytes()).toString()).toBe('original bytes')
        expect((await store.getRange(path, 0, 8)).toString()).toBe('original')
        const read = await (await store.get(path)).bytes()
        read.fill(0x79) // nor does changing what a read returned
        expect((await (await store.get(path)).bytes()).toString()).toBe('original bytes')
      })

      it('a stream that reuses one buffer for every chunk is stored as it was sent', async () => {
        const path = key('reuse/stream.bin')
        const chunk = Buffer.alloc(64 * 1024)
        async function* reusing() {
          for (const fill of [0x61, 0x62, 0x63]) {
            chunk.fill(fill) // the previous chunk's write has resolved: its buffer is ours again
            yield chunk
          }
        }
        await store.put(path, reusing())
        const expected = Buffer.concat([0x61, 0x62, 0x63].map((fill) => Buffer.alloc(64 * 1024, fill)))
        expect(sha256(await (await store.get(path)).bytes())).toBe(sha256(expected))
      })

      it('a 64 MiB Readable goes up in parts and reads back byte-identical', async () => {
        const { stream, digest } = randomReadable(64 * MiB)
        const path = key('stream/64mib.bin')
        const progress: number[] = []
        await store.put(path, stream, { chunkSize: 5 * MiB, concurrency: 4, onProgress: (p) => progress.push(p.loaded) })
        expect((await store.head(path)).size).toBe(64 * MiB)
        const hash = createHash('sha256')
        await pipeline(store.createReadStream(path), hash)
        expect(hash.digest('hex')).toBe(digest())
        expect(progress.at(-1)).toBe(64 * MiB)
        expect(progress).toEqual([...progress].sort((a, b) => a - b))
      })

      it('a file stream goes up whole, its start and end kept; one left at 64 KiB reads 1 MiB at a time', async () => {
        const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'stowage-file-stream-'))
        try {
          const file = nodePath.join(dir, 'source.bin')
          const content = randomBytes(3 * MiB + 123)
          fs.writeFileSync(file, content)
          const whole = fs.createReadStream(file)
          await store.put(key('file-stream/whole'), whole)
          expect(sha256(await (await store.get(key('file-stream/whole'))).bytes())).toBe(sha256(content))
          expect(whole.readableHighWaterMark).toBe(MiB)
          // inclusive end, as fs counts it; a size its owner chose is left alone
          const part = fs.createReadStream(file, { start: 100, end: 2 * MiB + 99, highWaterMark: 256 * 1024 })
          await store.put(key('file-stream/part'), part)
          expect(sha256(await (await store.get(key('file-stream/part'))).bytes())).toBe(sha256(content.subarray(100, 2 * MiB + 100)))
          expect(part.readableHighWaterMark).toBe(256 * 1024)
          // a missing file fails the put with the stream's own error, and leaves no object
          await expect(store.put(key('file-stream/missing'), fs.createReadStream(nodePath.join(dir, 'missing')))).rejects.toMatchObject({ code: 'GENERIC' })
          await expect(store.head(key('file-stream/missing'))).rejects.toMatchObject({ code: 'NOT_FOUND' })
        } finally {
          fs.rmSync(dir, { recursive: true, force: true })
        }
      })

      it('a GetResult body is read once, small or large', async () => {
        for (const size of [10, 2 * MiB]) {
          const path = key(`once/${size}`)
          await store.put(path, randomBytes(size))
          const got = await store.get(path)
          expect((await got.bytes()).length).toBe(size)
          await expectCode(got.bytes(), 'GENERIC')
          expect(() => got.stream()).toThrow(StorageError)
        }
      })

      it('every PutInput kind', async () => {
        const text = 'héllo wörld'
        const inputs: Array<[string, unknown]> = [
          ['string', text],
          ['Buffer', Buffer.from(text)],
          ['Uint8Array', new Uint8Array(Buffer.from(text))],
          ['ArrayBuffer', new Uint8Array(Buffer.from(text)).buffer],
          ['Readable', Readable.from([Buffer.from('héllo '), Buffer.from('wörld')])],
          ['ReadableStream', new Blob([text]).stream()],
          ['AsyncIterable', (async function* () { yield Buffer.from('héllo'); yield new TextEncoder().encode(' wörld') })()],
          ['Readable of strings', Readable.from(['héllo', ' wörld'], { objectMode: true })],
        ]
        for (const [label, input] of inputs) {
          const path = key(`inputs/${label}`)
          await store.put(path, input as never)
          expect(await (await store.get(path)).text(), label).toBe(text)
        }
      })

      it('createWriteStream uploads what is piped into it', async () => {
        const { stream, digest } = randomReadable(6 * MiB + 7, 100_000)
        const path = key('write-stream/file.bin')
        await pipeline(stream, store.createWriteStream(path, { chunkSize: 5 * MiB }))
        const bytes = await (await store.get(path)).bytes()
        expect(bytes.length).toBe(6 * MiB + 7)
        expect(sha256(bytes)).toBe(digest())
      })

      it('a failing source stream leaves no object', async () => {
        const path = key('failing/source.bin')
        async function* failing() {
          yield randomBytes(6 * MiB)
          throw new Error('source broke')
        }
        const err = await expectCode(store.put(path, failing(), { chunkSize: 5 * MiB }), 'GENERIC')
        expect(String((err.cause as Error)?.message ?? err.message)).toContain('source broke')
        await expectCode(store.head(path), 'NOT_FOUND')
      })

      it('an aborted upload throws ABORTED and leaves no object', async () => {
        const path = key('aborted/upload.bin')
        const controller = new AbortController()
        async function* slow() {
          yield randomBytes(6 * MiB)
          controller.abort()
          yield randomBytes(MiB)
        }
        await expectCode(store.put(path, slow(), { chunkSize: 5 * MiB, signal: controller.signal }), 'ABORTED')
        await expectCode(store.head(path), 'NOT_FOUND')
        await expectCode(store.put(path, 'x', { signal: AbortSignal.abort() }), 'ABORTED')
      })

      it('a destroyed write stream leaves no object', async () => {
        const path = key('aborted/write-stream.bin')
        const writable = store.createWriteStream(path, { chunkSize: 5 * MiB })
        await new Promise<void>((resolve) => writable.write(randomBytes(6 * MiB), () => resolve()))
        const errored = new Promise<Error>((resolve) => writable.once('error', resolve))
        const closed = new Promise((resolve) => writable.once('close', resolve))
        writable.destroy(new Error('caller gave up'))
        expect((await errored).message).toBe('caller gave up')
        await closed
        await expectCode(store.head(path), 'NOT_FOUND')
      })
    })

    describe('keys', () => {
      const odd = ['ünïcødé/日本語.txt', 'percent/100%.txt', 'percent/a%2Fb', 'spaces/with space .txt', 'symbols/a+b=c&d;e@f,g~h!.txt', 'emoji/😀.bin']

      it('unicode, percent and space characters round-trip exactly', async () => {
        for (const k of odd) await store.put(key(k), k)
        for (const k of odd) expect(await (await store.get(key(k))).text()).toBe(k)
        const listed = (await collect(store.list(root))).map((m) => m.path)
        for (const k of odd) expect(listed).toContain(key(k))
        for (const k of odd) expect((await store.head(key(k))).path).toBe(key(k))
      })

      it('refuses keys that cannot be keys with INVALID_PATH', async () => {
        for (const bad of ['', '/abs', 'a//b', 'a/./b', 'a/../b', '..', 'nul\0byte', 'ctl\u0001', 'trailing/']) {
          const err = await expectCode(store.put(bad, 'x'), 'INVALID_PATH')
          expect(err.path).toBe(bad)
          await expectCode(store.get(bad), 'INVALID_PATH')
          await expectCode(store.head(bad), 'INVALID_PATH')
        }
      })
    })

    describe('ranges', () => {
      const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251))
      const path = () => key('ranges/data.bin')
      beforeAll(async () => { await store.put(path(), data) })

      it('getRange returns [start, end)', async () => {
        expect(await store.getRange(path(), 0, 1)).toEqual(data.subarray(0, 1))
        expect(await store.getRange(path(), 999, 1000)).toEqual(data.subarray(999, 1000))
        expect(await store.getRange(path(), 0, 1000)).toEqual(data)
        expect(await store.getRange(path(), 100, 356)).toEqual(data.subarray(100, 356))
      })

      it('getRanges returns each range in order', async () => {
        const parts = await store.getRanges(path(), [[0, 10], [990, 1000], [5, 6], [500, 600]])
        expect(parts).toEqual([data.subarray(0, 10), data.subarray(990, 1000), data.subarray(5, 6), data.subarray(500, 600)])
      })

      it('get with a bounded, open and suffix range', async () => {
        const bounded = await store.get(path(), { range: { start: 10, end: 20 } })
        expect(bounded.range).toEqual({ start: 10, end: 20 })
        expect(await bounded.bytes()).toEqual(data.subarray(10, 20))
        const open = await store.get(path(), { range: { start: 900 } })
        expect(open.range).toEqual({ start: 900, end: 1000 })
        expect(await open.bytes()).toEqual(data.subarray(900))
        if (!caps.suffixRange) {
          await expectCode(store.get(path(), { range: { suffix: 100 } }), 'NOT_SUPPORTED')
        } else {
          const suffix = await store.get(path(), { range: { suffix: 100 } })
          expect(suffix.range).toEqual({ start: 900, end: 1000 })
          expect(await suffix.bytes()).toEqual(data.subarray(900))
        }
      })

      it('createReadStream takes inclusive start and end, like fs', async () => {
        const chunks: Buffer[] = []
        for await (const c of store.createReadStream(path(), { start: 10, end: 19 })) chunks.push(c as Buffer)
        expect(Buffer.concat(chunks)).toEqual(data.subarray(10, 20))
      })

      it('refuses empty, inverted, negative and fractional ranges with INVALID_CONFIG', async () => {
        await expectCode(store.getRange(path(), 5, 5), 'INVALID_CONFIG')
        await expectCode(store.getRange(path(), 10, 5), 'INVALID_CONFIG')
        await expectCode(store.getRange(path(), -1, 5), 'INVALID_CONFIG')
        await expectCode(store.getRange(path(), 0.5, 5), 'INVALID_CONFIG')
        await expectCode(store.getRanges(path(), [[0, 1], [3, 2]]), 'INVALID_CONFIG')
      })

      it('a range starting past the end fails, and one ending past it is cut to the end', async () => {
        await expect(store.getRange(path(), 2000, 3000)).rejects.toBeInstanceOf(StorageError)
        const cut = await store.get(path(), { range: { start: 990, end: 5000 } })
        expect(await cut.bytes()).toEqual(data.subarray(990))
      })

      it('a missing object is NOT_FOUND for every read', async () => {
        const missing = key('ranges/missing.bin')
        const err = await expectCode(store.get(missing), 'NOT_FOUND')
        expect(err.path).toBe(missing)
        await expectCode(store.head(missing), 'NOT_FOUND')
        await expectCode(store.getRange(missing, 0, 1), 'NOT_FOUND')
        const stream = store.createReadStream(missing)
        await expectCode(new Promise((resolve, reject) => stream.on('error', reject).on('end', resolve).resume()), 'NOT_FOUND')
      })
    })

    describe('listing', () => {
      const names = ['docs/a.txt', 'docs/b/c.txt', 'docs/b/d.txt', 'docs2/e.txt', 'docs-x/f.txt', 'top.txt']
      beforeAll(async () => {
        await Promise.all(names.map((n) => store.put(key(`list/${n}`), n)))
      })

      it('lists everything under a prefix, and a prefix is a directory', async () => {
        const docs = (await collect(store.list(key('list/docs')))).map((m) => m.path).sort()
        expect(docs).toEqual([key('list/docs/a.txt'), key('list/docs/b/c.txt'), key('list/docs/b/d.txt')])
        const slash = (await collect(store.list(key('list/docs/')))).map((m) => m.path).sort()
        expect(slash).toEqual(docs)
      })

      it('lists in key order where the backend orders', async () => {
        const all = (await collect(store.list(key('list')))).map((m) => m.path)
        expect([...all].sort()).toEqual(names.map((n) => key(`list/${n}`)).sort())
        if (caps.orderedList) expect(all).toEqual([...all].sort())
      })

      it('lists after an offset', async () => {
        const offset = key('list/docs/b/c.txt')
        if (!caps.listOffset) {
          await expectCode(collect(store.list(key('list'), { offset })), 'NOT_SUPPORTED')
          return
        }
        const after = (await collect(store.list(key('list'), { offset }))).map((m) => m.path).sort()
        expect(after).toEqual(names.map((n) => key(`list/${n}`)).filter((k) => k > offset).sort())
        expect(after).toContain(key('list/docs/b/d.txt'))
        expect(after).not.toContain(offset)
      })

      it('listWithDelimiter gives one level, prefixes without a trailing slash', async () => {
        const level = await store.listWithDelimiter(key('list'))
        expect(level.objects.map((m) => m.path)).toEqual([key('list/top.txt')])
        expect([...level.commonPrefixes].sort()).toEqual([key('list/docs'), key('list/docs-x'), key('list/docs2')].sort())
        const docs = await store.listWithDelimiter(key('list/docs/'))
        expect(docs.objects.map((m) => m.path)).toEqual([key('list/docs/a.txt')])
        expect(docs.commonPrefixes).toEqual([key('list/docs/b')])
      })

      it('listing an empty prefix yields nothing and a bad prefix is INVALID_PATH', async () => {
        expect(await collect(store.list(key('list/nothing-here')))).toEqual([])
        await expectCode(collect(store.list('a//b')), 'INVALID_PATH')
      })

      it('list metadata matches head', async () => {
        const entry = (await collect(store.list(key('list')))).find((m) => m.path === key('list/top.txt'))
        const head = await store.head(key('list/top.txt'))
        expect(entry?.size).toBe(head.size)
        // Listings may carry milliseconds where HEAD's HTTP date has whole seconds (S3 does this).
        expect(Math.floor(entry!.lastModified.getTime() / 1000)).toBe(Math.floor(head.lastModified.getTime() / 1000))
      })
    })

    describe('delete, copy, rename', () => {
      it('deletes one and many; deleting a missing key succeeds', async () => {
        const paths = [0, 1, 2, 3].map((i) => key(`delete/${i}`))
        for (const p of paths) await store.put(p, 'x')
        await store.delete(paths[0]!)
        await expectCode(store.head(paths[0]!), 'NOT_FOUND')
        await store.delete(paths.slice(1))
        for (const p of paths) await expectCode(store.head(p), 'NOT_FOUND')
        await store.delete(key('delete/never-existed'))
        await store.delete([])
      })

      it('copies with and without overwrite', async () => {
        const [a, b] = [key('copy/a'), key('copy/b')]
        await store.put(a, 'first')
        await store.copy(a, b)
        expect(await (await store.get(b)).text()).toBe('first')
        await store.put(a, 'second')
        await store.copy(a, b, { overwrite: true })
        expect(await (await store.get(b)).text()).toBe('second')
        if (caps.copyIfNotExists) {
          const err = await expectCode(store.copy(a, b, { overwrite: false }), 'ALREADY_EXISTS')
          expect(err.path).toBe(b)
          await store.copy(a, key('copy/c'), { overwrite: false })
          expect(await (await store.get(key('copy/c'))).text()).toBe('second')
        } else {
          await expectCode(store.copy(a, b, { overwrite: false }), 'NOT_SUPPORTED')
        }
        const missing = await expectCode(store.copy(key('copy/missing'), key('copy/d')), 'NOT_FOUND')
        expect(missing.path).toBe(key('copy/missing'))
      })

      it('renames with and without overwrite', async () => {
        const [a, b] = [key('rename/a'), key('rename/b')]
        await store.put(a, 'moved')
        await store.rename(a, b)
        await expectCode(store.head(a), 'NOT_FOUND')
        expect(await (await store.get(b)).text()).toBe('moved')
        await store.put(a, 'again')
        if (caps.copyIfNotExists) {
          await expectCode(store.rename(a, b, { overwrite: false }), 'ALREADY_EXISTS')
          expect(await (await store.get(a)).text()).toBe('again')
        }
        await store.rename(a, b, { overwrite: true })
        expect(await (await store.get(b)).text()).toBe('again')
      })
    })

    describe('conditions', () => {
      it('mode create refuses an existing object with ALREADY_EXISTS', async () => {
        const path = key('cond/create')
        if (!caps.create) {
          await expectCode(store.put(path, 'x', { mode: 'create' }), 'NOT_SUPPORTED')
          return
        }
        await store.put(path, 'one', { mode: 'create' })
        const err = await expectCode(store.put(path, 'two', { mode: 'create' }), 'ALREADY_EXISTS')
        expect(err.path).toBe(path)
        expect(await (await store.get(path)).text()).toBe('one')
      })

      it('mode { etag } updates only the version it names', async () => {
        const path = key('cond/update')
        const first = await store.put(path, 'one')
        if (!caps.conditionalPut) {
          await expectCode(store.put(path, 'two', { mode: { etag: first.etag ?? 'x' } }), 'NOT_SUPPORTED')
          return
        }
        expect(first.etag).toBeTruthy()
        const second = await store.put(path, 'two', { mode: { etag: first.etag! } })
        await expectCode(store.put(path, 'three', { mode: { etag: first.etag! } }), 'PRECONDITION_FAILED')
        expect(await (await store.get(path)).text()).toBe('two')
        expect(second.etag).not.toBe(first.etag)
      })

      it('conditional get: ifMatch, ifNoneMatch, ifModifiedSince, ifUnmodifiedSince', async () => {
        const path = key('cond/get')
        await store.put(path, 'body')
        const head = await store.head(path)
        if (!caps.conditionalGet || quirks.ignoresConditionalGets) return
        expect(head.etag).toBeTruthy()
        expect(await (await store.get(path, { ifMatch: head.etag! })).text()).toBe('body')
        await expectCode(store.get(path, { ifMatch: '"not-the-etag"' }), 'PRECONDITION_FAILED')
        await expectCode(store.get(path, { ifNoneMatch: head.etag! }), 'NOT_MODIFIED')
        const later = new Date(head.lastModified.getTime() + 60_000)
        const earlier = new Date(head.lastModified.getTime() - 60_000)
        await expectCode(store.get(path, { ifModifiedSince: later }), 'NOT_MODIFIED')
        expect(await (await store.get(path, { ifModifiedSince: earlier })).text()).toBe('body')
        await expectCode(store.get(path, { ifUnmodifiedSince: earlier }), 'PRECONDITION_FAILED')
      })
    })

    describe('attributes', () => {
      it('keeps attributes where the backend can, drops them where it cannot', async () => {
        const path = key('attrs/file.html')
        await store.put(path, '<p>hi</p>', {
          contentType: 'text/html',
          contentDisposition: 'attachment; filename="file.html"',
          cacheControl: 'max-age=60',
          metadata: { owner: 'ana', project: 'stowage' },
        })
        const { attributes } = await store.get(path)
        if (caps.attributes) {
          expect(attributes.contentType).toBe('text/html')
          expect(attributes.contentDisposition).toBe('attachment; filename="file.html"')
          expect(attributes.cacheControl).toBe('max-age=60')
          expect(attributes.metadata).toEqual({ owner: 'ana', project: 'stowage' })
        } else {
          // Not stored; a server may still report a content type it guessed from the name.
          expect(attributes.metadata).toEqual({})
          expect(attributes.contentDisposition).toBeUndefined()
          expect(attributes.cacheControl).toBeUndefined()
        }
      })
    })

    describe('signing and bad input', () => {
      it('signs URLs, or says NOT_SUPPORTED', async () => {
        const path = key('sign/file.txt')
        await store.put(path, 'signed')
        if (!caps.sign) {
          await expectCode(store.signUrl('GET', path), 'NOT_SUPPORTED')
          return
        }
        const url = await store.signUrl('GET', path, { expiresIn: 60 })
        expect(new URL(url).pathname.endsWith(encodeURI('sign/file.txt'))).toBe(true)
        if (quirks.cannotServeSignedUrls) return
        const res = await fetch(url)
        expect(res.status).toBe(200)
        expect(await res.text()).toBe('signed')
      })

      it('refuses bad option values with INVALID_CONFIG', async () => {
        const path = key('bad/options')
        await expectCode(store.put(path, 'x', { chunkSize: 0 }), 'INVALID_CONFIG')
        await expectCode(store.put(path, 'x', { concurrency: 0 }), 'INVALID_CONFIG')
        await expectCode(store.put(path, 'x', { mode: 'sometimes' as never }), 'INVALID_CONFIG')
        await expectCode(store.put(path, 42 as never), 'INVALID_CONFIG')
        await expectCode(store.put(path, (async function* () { yield 42 })() as never), 'INVALID_CONFIG')
        await expectCode(store.head(path), 'NOT_FOUND')
      })

      it('an aborted get throws ABORTED', async () => {
        const path = key('abort/get.bin')
        await store.put(path, randomBytes(3 * MiB))
        await expectCode(store.get(path, { signal: AbortSignal.abort() }), 'ABORTED')
        const controller = new AbortController()
        const stream = store.createReadStream(path, { signal: controller.signal })
        const seen = new Promise((resolve, reject) => stream.on('error', reject).on('end', resolve))
        stream.once('data', () => controller.abort())
        await expectCode(seen, 'ABORTED')
      })

      it('runs many operations concurrently on one store', async () => {
        const paths = Array.from({ length: 200 }, (_, i) => key(`concurrent/${i}`))
        await Promise.all(paths.map((p, i) => store.put(p, `value ${i}`)))
        const texts = await Promise.all(paths.map(async (p) => (await store.get(p)).text()))
        expect(texts).toEqual(paths.map((_, i) => `value ${i}`))
        expect((await collect(store.list(key('concurrent')))).length).toBe(200)
      })
    })
  })
}
