/**
 * An abort settles within 100 ms whatever the network or the source is doing, and leaves
 * no object, no open multipart upload and no temporary file behind. The stalls are real: an
 * HTTP server of this file's own that stops sending (or answering) part-way, and sources
 * that go idle; before the fix, these aborts settled only when the 30 s read timeout fired.
 */
import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HTTPStore, LocalStore, MemoryStore, StorageError } from '../src/index.js'
import type { Store } from '../src/index.js'
import { makeS3, pendingUploads, uniquePrefix, useServers } from './cloud/helpers.js'

/** How long an abort may take to settle. */
const ABORT_BOUND_MS = 100
/**
 * An abort of an S3 multipart upload also waits for the server to drop the upload
 * (AbortMultipartUpload), so nothing is left open: that round trip to moto, a Python server,
 * took 117 ms once on a loaded CI machine. An abort that waited for the idle source instead
 * would never settle, and one that waited out a retry or a request timeout would take seconds.
 */
const ABORT_WITH_SERVER_CLEANUP_BOUND_MS = 2_000

/**
 * Abort `controller` once `ready` resolves, and measure how long `operation` takes to settle
 * after that; it must reject with `ABORTED`.
 */
async function abortAndTime(operation: Promise<unknown>, controller: AbortController, ready: Promise<unknown>): Promise<number> {
  operation.catch(() => undefined)
  await ready
  const started = performance.now()
  controller.abort(new Error('user gave up'))
  const err = await operation.then(() => new Error('the operation resolved'), (e: unknown) => e)
  const elapsed = performance.now() - started
  expect(err).toBeInstanceOf(StorageError)
  expect((err as StorageError).code).toBe('ABORTED')
  return elapsed
}

/** A source that yields `bytes` (in 1 MiB chunks), then never yields again. */
function idleAfter(bytes: number, sent: () => void): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      for (let offset = 0; offset < bytes; offset += 1 << 20) yield Buffer.alloc(Math.min(1 << 20, bytes - offset), 7)
      sent()
      await new Promise(() => {}) // idle for good
    },
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((r) => { resolve = r })
  return { promise, resolve }
}

/**
 * An HTTP server that stalls: GET sends headers for 8 MiB and the first 512 KiB, then nothing;
 * PUT reads the body and never answers; PROPFIND (a WebDAV listing) never answers.
 */
class StallingServer {
  readonly server = http.createServer((req, res) => this.handle(req, res))
  readonly sockets = new Set<Socket>()
  /** Resolves when the next request has been stalled. */
  stalled = deferred()
  url = ''

  async start(): Promise<void> {
    this.server.on('connection', (socket) => {
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
    })
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    await new Promise((resolve) => this.server.close(resolve))
  }

  /**
   * Resolves once every connection the store opened has been closed by it; fails if one is
   * still open after 2 s (a read left to wait out its 30 s timeout).
   */
  async connectionsClosed(): Promise<void> {
    const deadline = Date.now() + 2000
    while (this.sockets.size > 0) {
      if (Date.now() > deadline) throw new Error(`${this.sockets.size} connection(s) still open 2 s after the abort`)
      await sleep(10)
    }
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-length': String(8 << 20), 'last-modified': new Date().toUTCString(), etag: '"e"' })
      res.write(Buffer.alloc(512 << 10, 1), () => this.stalled.resolve())
      return
    }
    if (req.method === 'HEAD') {
      res.writeHead(200, { 'content-length': String(8 << 20), 'last-modified': new Date().toUTCString(), etag: '"e"' })
      res.end()
      return
    }
    req.resume()
    if (req.method === 'PUT') req.on('end', () => this.stalled.resolve())
    else this.stalled.resolve()
  }
}

describe('aborts while the network stalls', () => {
  const stalling = new StallingServer()
  let store: HTTPStore
  beforeAll(async () => {
    await stalling.start()
    store = new HTTPStore(stalling.url)
  })
  afterAll(() => stalling.stop())

  it('get().stream(): a read waiting on a stalled body', async () => {
    stalling.stalled = deferred()
    const controller = new AbortController()
    const result = await store.get('big.bin', { signal: controller.signal })
    const reader = result.stream().getReader()
    await stalling.stalled.promise
    const first = await reader.read() // the 512 KiB that arrived
    expect(first.value!.length).toBeGreaterThan(0)
    const reading = (async () => { for (;;) if ((await reader.read()).done) return })()
    // Long enough for the next read to be waiting on the stalled body in Rust.
    expect(await abortAndTime(reading, controller, sleep(50))).toBeLessThan(ABORT_BOUND_MS)
    // The native read was cancelled too: the connection is closed, not left to time out.
    await stalling.connectionsClosed()
  })

  it('get().bytes() of a stalled body', async () => {
    stalling.stalled = deferred()
    const controller = new AbortController()
    const result = await store.get('big.bin', { signal: controller.signal })
    await stalling.stalled.promise
    expect(await abortAndTime(result.bytes(), controller, sleep(50))).toBeLessThan(ABORT_BOUND_MS)
    await stalling.connectionsClosed()
  })

  it('createReadStream of a stalled body', async () => {
    stalling.stalled = deferred()
    const controller = new AbortController()
    const stream = store.createReadStream('big.bin', { signal: controller.signal })
    const reading = (async () => { for await (const _ of stream); })()
    await stalling.stalled.promise
    expect(await abortAndTime(reading, controller, sleep(50))).toBeLessThan(ABORT_BOUND_MS)
    await stalling.connectionsClosed()
  })

  it('put of a buffer whose request is never answered', async () => {
    stalling.stalled = deferred()
    const controller = new AbortController()
    const put = store.put('up.bin', Buffer.alloc(1 << 20, 3), { signal: controller.signal })
    expect(await abortAndTime(put, controller, stalling.stalled.promise)).toBeLessThan(ABORT_BOUND_MS)
  })

  it('a write stream whose request is never answered', async () => {
    stalling.stalled = deferred()
    const controller = new AbortController()
    const writable = store.createWriteStream('up2.bin', { signal: controller.signal })
    const finished = new Promise((resolve, reject) => writable.on('finish', resolve).on('error', reject))
    writable.end(Buffer.alloc(1 << 20, 4))
    const elapsed = await abortAndTime(finished, controller, stalling.stalled.promise)
    expect(elapsed).toBeLessThan(ABORT_BOUND_MS)
  })

  it('listWithDelimiter and list waiting on an unanswered listing', async () => {
    stalling.stalled = deferred()
    let controller = new AbortController()
    const listing = store.listWithDelimiter('dir', { signal: controller.signal })
    expect(await abortAndTime(listing, controller, stalling.stalled.promise)).toBeLessThan(ABORT_BOUND_MS)
    stalling.stalled = deferred()
    controller = new AbortController()
    const iterating = (async () => { for await (const _ of store.list('dir', { signal: controller.signal })); })()
    expect(await abortAndTime(iterating, controller, stalling.stalled.promise)).toBeLessThan(ABORT_BOUND_MS)
  })
})

describe('aborts while the source is idle', () => {
  let base: string
  beforeAll(async () => { base = await mkdtemp(join(tmpdir(), 'stowage-aborts-')) })
  afterAll(() => rm(base, { recursive: true, force: true }))

  const cases: Array<[string, () => Store]> = [
    ['memory', () => new MemoryStore()],
    ['local', () => new LocalStore(join(base, 'root'), { mkdir: true })],
  ]
  for (const [name, make] of cases) {
    it(`${name}: put of an idle stream, a Readable and a write stream leave nothing`, async () => {
      const store = make()
      for (const size of [100, 6 << 20]) { // one part, and past chunkSize: a multipart upload underway
        let controller = new AbortController()
        let sent = deferred()
        const put = store.put(`idle-${size}`, idleAfter(size, sent.resolve), { signal: controller.signal })
        expect(await abortAndTime(put, controller, sent.promise)).toBeLessThan(ABORT_BOUND_MS)

        controller = new AbortController()
        sent = deferred()
        const readable = Readable.from(idleAfter(size, sent.resolve))
        const putReadable = store.put(`idle-readable-${size}`, readable, { signal: controller.signal })
        expect(await abortAndTime(putReadable, controller, sent.promise)).toBeLessThan(ABORT_BOUND_MS)

        controller = new AbortController()
        const writable = store.createWriteStream(`idle-writable-${size}`, { signal: controller.signal })
        const finished = new Promise((resolve, reject) => writable.on('finish', resolve).on('error', reject))
        writable.write(Buffer.alloc(size, 1))
        expect(await abortAndTime(finished, controller, sleep(20))).toBeLessThan(ABORT_BOUND_MS)
      }
      const left: string[] = []
      for await (const meta of store.list()) left.push(meta.path)
      expect(left).toEqual([])
      if (name === 'local') expect(await readdir(join(base, 'root'), { recursive: true })).toEqual([])
    })
  }

  it('list and listWithDelimiter take a signal', async () => {
    const store = new MemoryStore()
    await store.put('a/1', 'x')
    const controller = new AbortController()
    controller.abort()
    await expect(store.listWithDelimiter('a', { signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' })
    await expect((async () => { for await (const _ of store.list('a', { signal: controller.signal })); })()).rejects.toMatchObject({ code: 'ABORTED' })
  })
})

describe('aborts of S3 multipart uploads', () => {
  const servers = useServers(['s3moto'])

  it('an idle stream: no object and no open multipart upload remain', async () => {
    const server = servers().s3moto!
    const store = makeS3(server)
    const key = `${uniquePrefix('abort')}/idle.bin`
    const controller = new AbortController()
    const sent = deferred()
    // 11 MiB at 5 MiB parts: two parts sent, the third waiting for bytes that never come.
    const put = store.put(key, idleAfter(11 << 20, sent.resolve), { signal: controller.signal })
    await sent.promise
    expect(await pendingUploads(server, key)).toBe(1) // the upload was really underway
    expect(await abortAndTime(put, controller, Promise.resolve())).toBeLessThan(ABORT_WITH_SERVER_CLEANUP_BOUND_MS)
    expect(await pendingUploads(server, key)).toBe(0)
    await expect(store.head(key)).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })
})
