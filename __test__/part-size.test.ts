/**
 * Part sizes that fit the backend's part limit (10 000 parts on S3 and GCS), `contentLength`,
 * and the checks on `chunkSize`, `concurrency` and `contentLength`, against real servers.
 *
 * The growth is watched on the wire: a recording proxy in front of the GCS emulator (whose XML
 * multipart has S3's limits and, unlike s3s-fs and moto, takes parts under 5 MiB) logs the size
 * of every part. With `chunkSize` 1 KiB a few MiB are enough to cross the 1 000 parts after
 * which a stream's parts grow, and 12 MiB at 1 KiB would need 12 288 parts: more than the
 * emulator's 10 000, so an upload that did not adapt would fail there.
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GCSStore, LocalStore, MemoryStore, StorageError } from '../src/index.js'
import type { PutOptions, Store } from '../src/index.js'
import { gcsOptions, makeS3, pendingUploads, rejectsWith, uniquePrefix, useServers } from './cloud/helpers.js'

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB
const TiB = 1024 * GiB

const servers = useServers(['s3', 's3moto', 'gcs'])
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

/** `data` in pieces of `size` bytes, as a stream of unknown length. */
async function* pieces(data: Buffer, size = 64 * KiB): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size)
}

const roundUpToMiB = (n: number) => Math.ceil(n / MiB) * MiB

/**
 * The parts an upload of `total` bytes should be cut into on a 10 000-part backend, written
 * from the rule as documented (not from the Rust code): with a known total one size,
 * `max(chunkSize, ceil(total / 10 000))` in whole MiB; without, `chunkSize` for 1 000 parts,
 * then at least a thousandth of what was sent, in whole MiB.
 */
function expectedParts(total: number, chunkSize: number, known: boolean): number[] {
  const parts: number[] = []
  let sent = 0
  while (sent < total) {
    let size = chunkSize
    if (known) size = Math.max(chunkSize, roundUpToMiB(Math.ceil(total / 10_000)))
    else if (parts.length >= 1000) size = Math.max(chunkSize, roundUpToMiB(Math.ceil(sent / 1000)))
    size = Math.min(size, total - sent)
    parts.push(size)
    sent += size
  }
  return parts
}

/** A proxy in front of the GCS emulator that records each part upload's number and size. */
class PartRecorder {
  private server?: http.Server
  readonly parts = new Map<string, Map<number, number>>()
  url = ''

  async start(upstream: string): Promise<void> {
    const target = new URL(upstream)
    this.server = http.createServer((req, res) => {
      const query = new URL(req.url ?? '/', 'http://proxy').searchParams
      const uploadId = query.get('uploadId')
      const partNumber = Number(query.get('partNumber'))
      let bytes = 0
      if (req.method === 'PUT' && uploadId && partNumber) req.on('data', (chunk: Buffer) => { bytes += chunk.length })
      const forward = http.request({
        host: target.hostname, port: target.port, method: req.method, path: req.url,
        headers: { ...req.headers, host: target.host },
      }, (upstreamRes) => {
        if (req.method === 'PUT' && uploadId && partNumber && (upstreamRes.statusCode ?? 500) < 300) {
          const upload = this.parts.get(uploadId) ?? new Map<number, number>()
          upload.set(partNumber, bytes)
          this.parts.set(uploadId, upload)
        }
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers)
        upstreamRes.pipe(res)
      })
      forward.on('error', (err) => { res.writeHead(502); res.end(String(err)) })
      req.pipe(forward)
    })
    this.server.keepAliveTimeout = 1000
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  /** The part sizes of the one upload recorded since the last `clear()`, in part order. */
  onlyUpload(): number[] {
    expect(this.parts.size).toBe(1)
    const [upload] = [...this.parts.values()]
    const numbers = [...upload!.keys()].sort((a, b) => a - b)
    expect(numbers).toEqual(numbers.map((_, i) => i + 1))
    return numbers.map((n) => upload!.get(n)!)
  }

  clear(): void {
    this.parts.clear()
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections()
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
  }
}


describe('part sizes on a 10 000-part backend (GCS emulator, watched through a proxy)', () => {
  const recorder = new PartRecorder()
  let store: GCSStore
  beforeAll(async () => {
    await recorder.start(servers().gcs!.baseUrl)
    store = new GCSStore(gcsOptions(servers().gcs!, { baseUrl: recorder.url }))
  })
  afterAll(() => recorder.stop())

  it('a stream of unknown length keeps chunkSize for 1 000 parts, then grows: 12 MiB at 1 KiB in 1 012 parts', async () => {
    recorder.clear()
    const key = `${uniquePrefix('grow')}/stream.bin`
    const data = randomBytes(12 * MiB)
    await store.put(key, pieces(data), { chunkSize: KiB, concurrency: 16 })
    const parts = recorder.onlyUpload()
    expect(parts).toEqual(expectedParts(data.length, KiB, false))
    expect(parts.length).toBe(1012)
    expect(parts.slice(0, 1000).every((p) => p === KiB)).toBe(true)
    expect(parts.slice(1000, 1011).every((p) => p === MiB)).toBe(true)
    expect(sha(await (await store.get(key)).bytes())).toBe(sha(data))
    await store.delete(key)
  }, 120_000)

  it('a known contentLength picks one part size that fits: 12 MiB + 5 at 1 KiB in 13 parts of 1 MiB', async () => {
    recorder.clear()
    const key = `${uniquePrefix('known')}/stream.bin`
    const data = randomBytes(12 * MiB + 5)
    await pipeline(Readable.from(pieces(data)), store.createWriteStream(key, { chunkSize: KiB, contentLength: data.length }))
    const parts = recorder.onlyUpload()
    expect(parts).toEqual(expectedParts(data.length, KiB, true))
    expect(parts).toEqual([...Array<number>(12).fill(MiB), 5])
    expect(sha(await (await store.get(key)).bytes())).toBe(sha(data))
    await store.delete(key)
  }, 120_000)

  it('a Buffer is its own known length: 12 MiB + 5 at 1 KiB in 13 parts', async () => {
    recorder.clear()
    const key = `${uniquePrefix('buffer')}/buffer.bin`
    const data = randomBytes(12 * MiB + 5)
    await store.put(key, data, { chunkSize: KiB })
    expect(recorder.onlyUpload()).toEqual([...Array<number>(12).fill(MiB), 5])
    expect(sha(await (await store.get(key)).bytes())).toBe(sha(data))
    await store.delete(key)
  }, 120_000)

  it('a contentLength above GCS\'s largest object (5 TiB) is INVALID_CONFIG before anything is sent', async () => {
    recorder.clear()
    const key = `${uniquePrefix('too-big')}/x.bin`
    await rejectsWith(store.put(key, pieces(Buffer.from('x')), { contentLength: 5 * TiB + 1 }), 'INVALID_CONFIG')
    expect(recorder.parts.size).toBe(0)
  })
})

describe('contentLength on S3', () => {
  const moto = () => servers().s3moto!
  const s3sFs = () => servers().s3!

  it('more bytes than declared: INVALID_CONFIG, no object, no open upload (parts already sent)', async () => {
    const store = makeS3(moto())
    const key = `${uniquePrefix('longer')}/x.bin`
    const data = randomBytes(12 * MiB + 1)
    const err = await rejectsWith(store.put(key, pieces(data, MiB), { contentLength: 12 * MiB, concurrency: 2 }), 'INVALID_CONFIG')
    expect(err.message).toMatch(/longer than contentLength/)
    await rejectsWith(store.head(key), 'NOT_FOUND')
    expect(await pendingUploads(moto(), key)).toBe(0)
  }, 60_000)

  it('fewer bytes than declared: INVALID_CONFIG, no object, no open upload', async () => {
    const store = makeS3(moto())
    const key = `${uniquePrefix('shorter')}/x.bin`
    const data = randomBytes(11 * MiB)
    const err = await rejectsWith(store.put(key, pieces(data, MiB), { contentLength: 12 * MiB }), 'INVALID_CONFIG')
    expect(err.message).toMatch(/ended after 11534336 of contentLength 12582912/)
    await rejectsWith(store.head(key), 'NOT_FOUND')
    expect(await pendingUploads(moto(), key)).toBe(0)
  }, 60_000)

  it('a short stream under one part and createWriteStream fail the same way', async () => {
    const store = makeS3(moto())
    const small = `${uniquePrefix('short-small')}/x.bin`
    await rejectsWith(store.put(small, pieces(Buffer.from('hello')), { contentLength: 6 }), 'INVALID_CONFIG')
    await rejectsWith(store.head(small), 'NOT_FOUND')
    const writable = `${uniquePrefix('long-writable')}/x.bin`
    const err = await pipeline(Readable.from(pieces(randomBytes(6 * MiB), MiB)),
      store.createWriteStream(writable, { contentLength: 5 * MiB + 1 })).then(() => null, (e: unknown) => e)
    expect(err).toBeInstanceOf(StorageError)
    expect((err as StorageError).code).toBe('INVALID_CONFIG')
    await rejectsWith(store.head(writable), 'NOT_FOUND')
    expect(await pendingUploads(moto(), writable)).toBe(0)
  }, 60_000)

  it('a Buffer whose length differs from contentLength is INVALID_CONFIG up front', async () => {
    const store = makeS3(moto())
    const key = `${uniquePrefix('buffer-mismatch')}/x.bin`
    await rejectsWith(store.put(key, randomBytes(6 * MiB), { contentLength: 6 * MiB - 1 }), 'INVALID_CONFIG')
    await rejectsWith(store.head(key), 'NOT_FOUND')
    expect(await pendingUploads(moto(), key)).toBe(0)
  })

  it('a Buffer and a stream with contentLength round-trip byte-identical in several parts (s3s-fs)', async () => {
    const store = makeS3(s3sFs())
    const data = randomBytes(17 * MiB + 3)
    const fromBuffer = `${uniquePrefix('rt-buffer')}/b.bin`
    await store.put(fromBuffer, data, { chunkSize: 5 * MiB, concurrency: 2 })
    expect(sha(await (await store.get(fromBuffer)).bytes())).toBe(sha(data))
    const fromStream = `${uniquePrefix('rt-stream')}/s.bin`
    await store.put(fromStream, pieces(data, 3 * MiB + 7), { chunkSize: 5 * MiB, contentLength: data.length })
    expect(sha(await (await store.get(fromStream)).bytes())).toBe(sha(data))
    const fromWritable = `${uniquePrefix('rt-writable')}/w.bin`
    await pipeline(Readable.from(pieces(data, MiB)), store.createWriteStream(fromWritable, { contentLength: data.length }))
    expect(sha(await (await store.get(fromWritable)).bytes())).toBe(sha(data))
    await store.delete([fromBuffer, fromStream, fromWritable])
  }, 120_000)

  it('contentLength up to S3\'s largest object (10 000 × 5 GiB) is accepted, above it refused', async () => {
    const store = makeS3(s3sFs())
    const key = `${uniquePrefix('s3-max')}/x.bin`
    // Accepted up front; the one byte then falls short of it, so nothing is stored either way.
    await rejectsWith(store.put(key, pieces(Buffer.from('x')), { contentLength: 10_000 * 5 * GiB }), 'INVALID_CONFIG')
      .then((err) => expect(err.message).toMatch(/ended after 1 of contentLength/))
    const tooBig = await rejectsWith(store.put(key, pieces(Buffer.from('x')), { contentLength: 10_000 * 5 * GiB + 1 }), 'INVALID_CONFIG')
    expect(tooBig.message).toMatch(/largest object/)
  })
})

describe('bad chunkSize, concurrency and contentLength are INVALID_CONFIG', () => {
  let root: string
  beforeAll(() => { root = mkdtempSync(join(tmpdir(), 'stowage-part-size-')) })
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  const bad: Array<[string, PutOptions]> = [
    ['chunkSize -1', { chunkSize: -1 }],
    ['chunkSize 0', { chunkSize: 0 }],
    ['chunkSize 1.5', { chunkSize: 1.5 }],
    ['chunkSize NaN', { chunkSize: Number.NaN }],
    ['concurrency -1', { concurrency: -1 }],
    ['concurrency 0', { concurrency: 0 }],
    ['concurrency 1.5', { concurrency: 1.5 }],
    ['concurrency 1025', { concurrency: 1025 }],
    ['concurrency NaN', { concurrency: Number.NaN }],
    ['contentLength -1', { contentLength: -1 }],
    ['contentLength 1.5', { contentLength: 1.5 }],
    ['contentLength NaN', { contentLength: Number.NaN }],
    ['contentLength 2^53', { contentLength: 2 ** 53 }],
  ]
  const stores: Array<[string, () => Store]> = [
    ['memory', () => new MemoryStore()],
    ['local', () => new LocalStore(root)],
    ['s3', () => makeS3(servers().s3!)],
  ]

  for (const [name, makeStore] of stores) {
    it(`on ${name}: put of a Buffer, put of a stream and createWriteStream`, async () => {
      const store = makeStore()
      const key = `${uniquePrefix('bad')}/x.bin`
      for (const [label, opts] of bad) {
        const buffer = await rejectsWith(store.put(key, Buffer.from('x'), opts), 'INVALID_CONFIG')
        expect(buffer.message, label).toMatch(/chunkSize|concurrency|contentLength/)
        await rejectsWith(store.put(key, pieces(Buffer.from('x')), opts), 'INVALID_CONFIG')
        let thrown: unknown
        try { store.createWriteStream(key, opts).destroy() } catch (err) { thrown = err }
        expect(thrown, label).toBeInstanceOf(StorageError)
        expect((thrown as StorageError).code, label).toBe('INVALID_CONFIG')
      }
      await rejectsWith(store.head(key), 'NOT_FOUND')
    })
  }

  it('chunkSize above the backend\'s largest part: refused on S3 (5 GiB) and GCS, no limit on memory', async () => {
    const key = `${uniquePrefix('chunk-max')}/x.bin`
    const s3 = makeS3(servers().s3!)
    const err = await rejectsWith(s3.put(key, Buffer.from('x'), { chunkSize: 5 * GiB + 1 }), 'INVALID_CONFIG')
    expect(err.message).toMatch(/at most 5368709120/)
    await s3.put(key, Buffer.from('x'), { chunkSize: 5 * GiB })
    await s3.delete(key)
    const gcs = new GCSStore(gcsOptions(servers().gcs!))
    await rejectsWith(gcs.put(key, pieces(Buffer.from('x')), { chunkSize: 5 * GiB + 1 }), 'INVALID_CONFIG')
    await new MemoryStore().put(key, Buffer.from('x'), { chunkSize: 5 * GiB + 1 })
  })

  it('a contentLength mismatch on local leaves no file and no staged part', async () => {
    const dir = mkdtempSync(join(root, 'mismatch-'))
    const store = new LocalStore(dir)
    await store.put('a/exact.bin', pieces(randomBytes(MiB), 1000), { contentLength: MiB })
    await rejectsWith(store.put('a/longer.bin', pieces(randomBytes(3 * MiB), MiB), { contentLength: 2 * MiB }), 'INVALID_CONFIG')
    await rejectsWith(store.put('a/short.bin', pieces(randomBytes(MiB), 1000), { contentLength: MiB + 1 }), 'INVALID_CONFIG')
    await rejectsWith(store.head('a/longer.bin'), 'NOT_FOUND')
    await rejectsWith(store.head('a/short.bin'), 'NOT_FOUND')
    // Only the exact upload is there: no staged file of the failed ones is left over.
    expect(readdirSync(join(dir, 'a'))).toEqual(['exact.bin'])
  })
})
