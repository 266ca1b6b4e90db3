/**
 * Behaviours every cloud backend must show, written once and run by each
 * backend's suite: multipart uploads, presigned URLs, attributes.
 */
import { createHash, randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import type { Store } from '../../src/index.js'
import { rejectsWith, secrets, uniquePrefix } from './helpers.js'

const MiB = 1024 * 1024
const BIG = 64 * MiB
let bigData: Buffer | undefined
/** One 64 MiB random buffer, shared by the suites of a file. */
export function big(): Buffer {
  bigData ??= randomBytes(BIG)
  return bigData
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

/** Chunks of uneven sizes, so parts never line up with what the source yields. */
function* unevenChunks(data: Buffer): Generator<Buffer> {
  const sizes = [MiB + 7, 3 * MiB - 11, 512 * 1024, 2 * MiB + 1]
  let offset = 0
  for (let i = 0; offset < data.length; i++) {
    const size = sizes[i % sizes.length]!
    yield data.subarray(offset, offset + size)
    offset += size
  }
}

async function pause(ms: number) {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

export interface MultipartTarget {
  store: () => Store
  /** Multipart uploads still pending on the server for `key` (as the server names it). */
  pending: (key: string) => Promise<number>
  /** What `key` is called on the server (the store's prefix included). */
  serverKey?: (key: string) => string
  /** Set when the backend cannot remove parts already sent (Azure keeps uncommitted blocks). */
  partsOutliveAbort?: string
}

export function multipartSuite(target: MultipartTarget): void {
  const serverKey = target.serverKey ?? ((k: string) => k)
  describe('multipart', () => {
    it('uploads 64 MiB from a stream in 5 MiB parts, 4 at a time, byte-identical, with rising progress', async () => {
      const store = target.store()
      const key = `${uniquePrefix('mp-stream')}/big.bin`
      const progress: number[] = []
      await store.put(key, Readable.from(unevenChunks(big())), {
        chunkSize: 5 * MiB, concurrency: 4, onProgress: (p) => progress.push(p.loaded),
      })
      const back = await (await store.get(key)).bytes()
      expect(back.length).toBe(BIG)
      expect(sha(back)).toBe(sha(big()))
      expect(progress.length).toBeGreaterThan(1)
      for (let i = 1; i < progress.length; i++) expect(progress[i]!).toBeGreaterThanOrEqual(progress[i - 1]!)
      expect(progress.at(-1)).toBe(BIG)
      expect(await target.pending(serverKey(key))).toBe(0)
      await store.delete(key)
    }, 180_000)

    it('uploads 64 MiB from a Buffer the same way', async () => {
      const store = target.store()
      const key = `${uniquePrefix('mp-buffer')}/big.bin`
      const progress: Array<{ loaded: number; total?: number }> = []
      await store.put(key, big(), { chunkSize: 5 * MiB, concurrency: 4, onProgress: (p) => progress.push({ ...p }) })
      const head = await store.head(key)
      expect(head.size).toBe(BIG)
      const back = await (await store.get(key)).bytes()
      expect(sha(back)).toBe(sha(big()))
      for (let i = 1; i < progress.length; i++) expect(progress[i]!.loaded).toBeGreaterThanOrEqual(progress[i - 1]!.loaded)
      expect(progress.at(-1)?.loaded).toBe(BIG)
      expect(progress.at(-1)?.total).toBe(BIG)
      // Ranged reads across part boundaries agree with the source.
      const [a, b] = await store.getRanges(key, [[5 * MiB - 10, 5 * MiB + 10], [BIG - 100, BIG]])
      expect(a!.equals(big().subarray(5 * MiB - 10, 5 * MiB + 10))).toBe(true)
      expect(b!.equals(big().subarray(BIG - 100))).toBe(true)
      await store.delete(key)
    }, 180_000)

    it('a source stream that fails midway leaves no object and no pending upload', async () => {
      const store = target.store()
      const key = `${uniquePrefix('mp-fail')}/broken.bin`
      async function* failing() {
        const data = big()
        for (let offset = 0; offset < 23 * MiB; offset += MiB) yield data.subarray(offset, offset + MiB)
        throw new Error('source broke')
      }
      const err = await store.put(key, failing(), { chunkSize: 5 * MiB, concurrency: 4 }).then(
        () => { throw new Error('the upload should have failed') }, (e: unknown) => e)
      secrets.error(err)
      expect(String((err as Error).message) + String((err as Error).cause)).toMatch(/source broke/)
      await pause(200)
      await rejectsWith(store.head(key), 'NOT_FOUND')
      if (target.partsOutliveAbort) return
      expect(await target.pending(serverKey(key))).toBe(0)
    }, 120_000)

    it('an AbortSignal stops the upload: no object, no pending upload', async () => {
      const store = target.store()
      const key = `${uniquePrefix('mp-abort')}/aborted.bin`
      const controller = new AbortController()
      async function* slow() {
        const data = big()
        for (let offset = 0; offset < data.length; offset += MiB) {
          yield data.subarray(offset, offset + MiB)
          if (offset >= 16 * MiB) await pause(20)
        }
      }
      const upload = store.put(key, slow(), {
        chunkSize: 5 * MiB, concurrency: 4, signal: controller.signal,
        onProgress: (p) => { if (p.loaded >= 10 * MiB) controller.abort(new Error('user gave up')) },
      })
      await rejectsWith(upload, 'ABORTED')
      await pause(300)
      await rejectsWith(store.head(key), 'NOT_FOUND')
      if (target.partsOutliveAbort) return
      expect(await target.pending(serverKey(key))).toBe(0)
    }, 120_000)

    it('createWriteStream uploads in parts too', async () => {
      const store = target.store()
      const key = `${uniquePrefix('mp-writable')}/w.bin`
      const data = big().subarray(0, 12 * MiB + 3)
      const writable = store.createWriteStream(key, { chunkSize: 5 * MiB, concurrency: 2 })
      const { pipeline } = await import('node:stream/promises')
      await pipeline(Readable.from(unevenChunks(Buffer.from(data))), writable)
      expect(sha(await (await store.get(key)).bytes())).toBe(sha(data))
      await store.delete(key)
    }, 120_000)
  })
}

export interface SigningTarget {
  store: () => Store
  /** The server checks signatures and expiry (S3: s3s-fs, Azure: Azurite). */
  serverVerifies: boolean
  /** Check a signed URL offline when the server does not (GCS against the service account key). */
  verifyOffline?: (url: string, method: string) => boolean
  /** The query parameter holding the signature. */
  signatureParam: string
  /** The key name used for the GET test (default one with a space, `+` and `ü`). */
  oddKey?: string
}

function tamper(url: string, param: string): string {
  const u = new URL(url)
  const sig = u.searchParams.get(param)!
  const flipped = (sig[0] === 'a' ? 'b' : 'a') + sig.slice(1)
  u.searchParams.set(param, flipped)
  return u.toString()
}

export function signingSuite(target: SigningTarget): void {
  describe('presigned URLs', () => {
    it('a signed GET fetched with plain fetch returns the bytes', async () => {
      const store = target.store()
      const key = `${uniquePrefix('sign-get')}/${target.oddKey ?? 'file name+ü.txt'}`
      await store.put(key, 'signed bytes')
      const url = await store.signUrl('GET', key, { expiresIn: 300 })
      const res = await fetch(url)
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('signed bytes')
      if (target.verifyOffline) expect(target.verifyOffline(url, 'GET')).toBe(true)
    })

    it('a signed PUT accepts an upload that reads back through the store', async () => {
      const store = target.store()
      const key = `${uniquePrefix('sign-put')}/upload.bin`
      const url = await store.signUrl('PUT', key, { expiresIn: 300 })
      const body = randomBytes(1000)
      const headers: Record<string, string> = url.includes('sr=b') ? { 'x-ms-blob-type': 'BlockBlob' } : {}
      const res = await fetch(url, { method: 'PUT', body, headers })
      expect(res.status).toBeGreaterThanOrEqual(200)
      expect(res.status).toBeLessThan(300)
      expect((await (await store.get(key)).bytes()).equals(body)).toBe(true)
      if (target.verifyOffline) expect(target.verifyOffline(url, 'PUT')).toBe(true)
    })

    const checkable = target.serverVerifies || target.verifyOffline !== undefined
    it.skipIf(!checkable)('a tampered signature is refused', async () => {
      const store = target.store()
      const key = `${uniquePrefix('sign-tamper')}/t.txt`
      await store.put(key, 'x')
      const bad = tamper(await store.signUrl('GET', key), target.signatureParam)
      if (target.serverVerifies) {
        const res = await fetch(bad)
        expect(res.status).toBe(403)
      } else {
        expect(target.verifyOffline!(bad, 'GET')).toBe(false)
      }
    })

    it.skipIf(!checkable)('a URL past its expiry is refused', async () => {
      const store = target.store()
      const key = `${uniquePrefix('sign-expired')}/e.txt`
      await store.put(key, 'x')
      const url = await store.signUrl('GET', key, { expiresIn: 1 })
      await pause(2100)
      if (target.serverVerifies) {
        const res = await fetch(url)
        expect(res.status).toBe(403)
      } else {
        // The signature is intact; the expiry it signs has passed.
        expect(target.verifyOffline!(url, 'GET')).toBe(true)
        const u = new URL(url)
        const date = u.searchParams.get('X-Goog-Date')!
        const start = Date.parse(date.replace(/(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/, '$1-$2-$3T$4:$5:$6Z'))
        expect(start + Number(u.searchParams.get('X-Goog-Expires')) * 1000).toBeLessThan(Date.now())
      }
    })

    it('signUrls signs 10 000 URLs in one call', async () => {
      const store = target.store()
      const keys = Array.from({ length: 10_000 }, (_, i) => `bulk/${i}.txt`)
      const started = Date.now()
      const urls = await store.signUrls('GET', keys, { expiresIn: 600 })
      const elapsed = Date.now() - started
      expect(urls).toHaveLength(10_000)
      expect(new Set(urls).size).toBe(10_000)
      expect(urls[1234]).toContain('bulk/1234.txt')
      expect(elapsed).toBeLessThan(30_000)
    })

    it('bad methods and expiries are INVALID_CONFIG', async () => {
      const store = target.store()
      await rejectsWith(store.signUrl('POST' as 'GET', 'a'), 'INVALID_CONFIG')
      await rejectsWith(store.signUrl('GET', 'a', { expiresIn: 0 }), 'INVALID_CONFIG')
    })
  })
}

export function attributesSuite(store: () => Store): void {
  it('attributes round-trip: contentType, contentDisposition, cacheControl, metadata', async () => {
    const key = `${uniquePrefix('attrs')}/doc.pdf`
    await store().put(key, 'pdf bytes', {
      contentType: 'application/pdf',
      contentDisposition: 'attachment; filename="doc.pdf"',
      cacheControl: 'max-age=60',
      metadata: { owner: 'alice', purpose: 'test' },
    })
    const got = await store().get(key)
    expect(got.attributes.contentType).toBe('application/pdf')
    expect(got.attributes.contentDisposition).toBe('attachment; filename="doc.pdf"')
    expect(got.attributes.cacheControl).toBe('max-age=60')
    expect(got.attributes.metadata).toEqual({ owner: 'alice', purpose: 'test' })
    expect(await got.text()).toBe('pdf bytes')
  })

  it('attributes survive a multipart upload', async () => {
    const key = `${uniquePrefix('attrs-mp')}/big.bin`
    await store().put(key, big().subarray(0, 11 * MiB), {
      chunkSize: 5 * MiB, contentType: 'application/x-test', metadata: { parts: 'three' },
    })
    const got = await store().get(key, { range: { start: 0, end: 4 } })
    expect(got.attributes.contentType).toBe('application/x-test')
    expect(got.attributes.metadata).toEqual({ parts: 'three' })
  }, 120_000)
}

export function conditionalSuite(store: () => Store, opts: { conditionalGet: boolean; updateNeedsVersion?: boolean }): void {
  it("mode 'create' writes once, then ALREADY_EXISTS", async () => {
    const key = `${uniquePrefix('create')}/once.txt`
    await store().put(key, 'first', { mode: 'create' })
    await rejectsWith(store().put(key, 'second', { mode: 'create' }), 'ALREADY_EXISTS')
    expect(await (await store().get(key)).text()).toBe('first')
  })

  it('an etag update succeeds with the current etag and fails with a stale one', async () => {
    const key = `${uniquePrefix('update')}/v.txt`
    const first = await store().put(key, 'v1')
    const mode = opts.updateNeedsVersion ? { etag: first.etag, version: first.version } : { etag: first.etag }
    const second = await store().put(key, 'v2', { mode })
    expect(await (await store().get(key)).text()).toBe('v2')
    await rejectsWith(store().put(key, 'v3', { mode }), 'PRECONDITION_FAILED')
    expect(second.etag).not.toBe(first.etag)
    if (opts.updateNeedsVersion) {
      await rejectsWith(store().put(key, 'v3', { mode: { etag: second.etag } }), 'NOT_SUPPORTED')
    }
  })

  it('copy and rename with overwrite: false refuse an existing target', async () => {
    const base = uniquePrefix('copy')
    await store().put(`${base}/a`, 'a')
    await store().put(`${base}/b`, 'b')
    await rejectsWith(store().copy(`${base}/a`, `${base}/b`, { overwrite: false }), 'ALREADY_EXISTS')
    await store().copy(`${base}/a`, `${base}/c`, { overwrite: false })
    expect(await (await store().get(`${base}/c`)).text()).toBe('a')
    await rejectsWith(store().rename(`${base}/c`, `${base}/b`, { overwrite: false }), 'ALREADY_EXISTS')
    await store().rename(`${base}/c`, `${base}/d`, { overwrite: false })
    await rejectsWith(store().head(`${base}/c`), 'NOT_FOUND')
    expect(await (await store().get(`${base}/b`)).text()).toBe('b')
  })

  if (opts.conditionalGet) {
    it('conditional get: ifNoneMatch gives NOT_MODIFIED, a wrong ifMatch PRECONDITION_FAILED', async () => {
      const key = `${uniquePrefix('cond-get')}/g.txt`
      const { etag } = await store().put(key, 'g')
      await rejectsWith(store().get(key, { ifNoneMatch: etag }), 'NOT_MODIFIED')
      await rejectsWith(store().get(key, { ifMatch: '"not-the-etag"' }), 'PRECONDITION_FAILED')
      expect(await (await store().get(key, { ifMatch: etag })).text()).toBe('g')
    })
  }
}

export function prefixSuite(make: (prefix: string) => Store, plain: () => Store): void {
  it('a prefix applies to every key, signed URLs included, and is stripped from listings', async () => {
    const prefix = uniquePrefix('prefixed')
    const store = make(prefix)
    await store.put('inner/a.txt', 'A')
    expect(await (await plain().get(`${prefix}/inner/a.txt`)).text()).toBe('A')
    const listed: string[] = []
    for await (const m of store.list('inner')) listed.push(m.path)
    expect(listed).toEqual(['inner/a.txt'])
    const { commonPrefixes } = await store.listWithDelimiter()
    expect(commonPrefixes).toEqual(['inner'])
    const url = await store.signUrl('GET', 'inner/a.txt')
    expect(decodeURIComponent(new URL(url).pathname)).toContain(`${prefix}/inner/a.txt`)
    const res = await fetch(url)
    expect(await res.text()).toBe('A')
  })
}
