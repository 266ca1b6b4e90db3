/**
 * S3Store (s3s-fs) and AzureStore (Azurite) through a proxy that injects faults into a seeded
 * 20% of requests (`servers/fault-proxy.mjs`: resets, 500/503, bodies cut off, stalls past the
 * read timeout). With retries on, every call arrives byte-identical; with `maxRetries: 0`, each
 * call either arrives byte-identical or rejects with a coded `StorageError`, never short.
 * What was written is checked through a store that does not go through the proxy.
 * STOWAGE_FAULT_SEED=<n> repeats a run's choice of faults (the seed is printed).
 */
import { createHash, randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AzureStore, S3Store, StorageError } from '../src/index.js'
import type { Store } from '../src/index.js'
import { azureOptions, s3Options, uniquePrefix, useServers } from './cloud/helpers.js'
import type { Servers } from './cloud/helpers.js'
// @ts-expect-error -- a .mjs module without type declarations (tsconfig.json has no allowJs)
import * as faultProxyModule from './servers/fault-proxy.mjs'

const servers = useServers(['s3', 'azure'])

/** The codes of README's error table: a failure must carry one of them. */
const DOCUMENTED_CODES = [
  'NOT_FOUND', 'ALREADY_EXISTS', 'PRECONDITION_FAILED', 'NOT_MODIFIED', 'PERMISSION_DENIED',
  'UNAUTHENTICATED', 'INVALID_PATH', 'NOT_SUPPORTED', 'INVALID_CONFIG', 'ABORTED', 'GENERIC',
]

const MiB = 1024 * 1024
/** A stall costs one read timeout: short, so a stalled request is given up on quickly. */
const READ_TIMEOUT_MS = 1000
const RETRIES = { maxRetries: 10, backoff: { initialDelay: 10, maxDelay: 200 } }
const NO_RETRIES = { maxRetries: 0 }

interface ProxiedRequest { method: string; url: string }
interface FaultProxy {
  url: string
  stats: { requests: number; faults: number; byKind: Record<string, number>; events: Array<{ kind: string } & ProxiedRequest> }
  failNext(kind: string, opts?: { match?: (req: ProxiedRequest) => boolean; times?: number }): void
  pendingForced(): number
  close(): Promise<void>
}
/** The fault-proxy module (plain JavaScript), typed for what this suite uses. */
interface FaultProxyModule {
  FAULT_KINDS: readonly string[]
  UNSEEN_FAULT_KINDS: readonly string[]
  startFaultProxy: (opts: {
    upstream: string; name?: string; rate?: number; kinds?: readonly string[]
    kindsFor?: (req: ProxiedRequest) => readonly string[]; stallMs?: number
  }) => Promise<FaultProxy>
}
const { FAULT_KINDS, UNSEEN_FAULT_KINDS, startFaultProxy } = faultProxyModule as FaultProxyModule

/** How one backend is reached, directly and through the proxy, and what its requests look like. */
interface Backend {
  name: string
  upstream(s: Servers): string
  direct(s: Servers): Store
  proxied(s: Servers, proxyUrl: string, retry: object): Store
  /** The request path of `key`'s object. */
  objectPath(s: Servers, key: string): string
  isList: (req: ProxiedRequest) => boolean
  /** A list request for a page after the first, where a listing has several. */
  isLaterListPage?: (req: ProxiedRequest) => boolean
  /**
   * The request completing a multipart upload. object_store retries it, but once the server
   * has acted on it a repeat fails (see the test of a lost completion answer below).
   */
  isCompletion: (req: ProxiedRequest) => boolean
  /** The request creating a multipart upload, where there is one. */
  isUploadCreation?: (req: ProxiedRequest) => boolean
  /** Keys for the listing: several pages where the backend's page size allows. */
  listKeys: number
}

const BACKENDS: Backend[] = [
  {
    name: 'S3Store on s3s-fs',
    upstream: (s) => s.s3!.endpoint,
    direct: (s) => new S3Store(s3Options(s.s3!)),
    proxied: (s, url, retry) => new S3Store(s3Options(s.s3!, { endpoint: url, client: { readTimeout: READ_TIMEOUT_MS }, retry })),
    objectPath: (s, key) => `/${s.s3!.bucket}/${key}`,
    isList: (r) => r.method === 'GET' && /[?&]list-type=2/.test(r.url),
    isLaterListPage: (r) => r.method === 'GET' && /[?&]list-type=2/.test(r.url) && /[?&]continuation-token=/.test(r.url),
    // A repeated CompleteMultipartUpload finds no upload (NoSuchUpload), and its answer's
    // body is read after object_store's retry loop.
    isCompletion: (r) => r.method === 'POST' && /[?&]uploadId=/.test(r.url),
    isUploadCreation: (r) => r.method === 'POST' && /[?&]uploads(&|=|$)/.test(r.url),
    // object_store asks S3 for 1000 keys a page: 1500 make two pages.
    listKeys: 1500,
  },
  {
    name: 'AzureStore on Azurite',
    upstream: (s) => s.azure!.blobStorageUrl,
    direct: (s) => new AzureStore(azureOptions(s.azure!)),
    proxied: (s, url, retry) => new AzureStore(azureOptions(s.azure!, {
      endpoint: `${url}/${s.azure!.account}`, client: { readTimeout: READ_TIMEOUT_MS }, retry,
    })),
    objectPath: (s, key) => `/${s.azure!.account}/${s.azure!.container}/${key}`,
    isList: (r) => r.method === 'GET' && /[?&]comp=list/.test(r.url),
    // A repeated PutBlockList names as uncommitted blocks the first one committed.
    isCompletion: (r) => r.method === 'PUT' && /[?&]comp=blocklist/.test(r.url),
    // Azure pages at 5000 and object_store has no way to ask for smaller pages through
    // `list`, so this listing is one page: a cut-off page is asked for again from the start.
    listKeys: 300,
  },
]

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = []
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk)
  return Buffer.concat(chunks)
}

async function bytesOf(store: Store, key: string): Promise<Buffer> {
  return (await store.get(key)).bytes()
}

/** Runs `work` on each item, `limit` at a time. */
async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await work(items[next++]!)
  }))
}

/** `value`, or the `StorageError` it rejected with; anything else is rethrown. */
async function settle<T>(value: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: StorageError }> {
  try {
    return { ok: true, value: await value }
  } catch (error) {
    if (!(error instanceof StorageError)) throw error
    return { ok: false, error }
  }
}

for (const backend of BACKENDS) {
  describe(`${backend.name} through a fault proxy`, () => {
    let proxy: FaultProxy
    let direct: Store
    const prefix = uniquePrefix('faults')
    const small = randomBytes(64 * 1024) // read within get()
    const big = randomBytes(3 * MiB + 12345) // read through the reader, several chunks
    const bigKey = `${prefix}/fixtures/big`
    const smallKey = `${prefix}/fixtures/small`
    const listPrefix = `${prefix}/list`
    const topKeys = Array.from({ length: backend.listKeys }, (_, i) => `${listPrefix}/k-${String(i).padStart(5, '0')}`)
    const nestedKeys = [`${listPrefix}/d1/a`, `${listPrefix}/d1/b`, `${listPrefix}/d2/c`]
    const store = (retry: object) => backend.proxied(servers(), proxy.url, retry)
    const bigGets = (req: ProxiedRequest) => req.method === 'GET' && req.url.startsWith(backend.objectPath(servers(), bigKey))

    beforeAll(async () => {
      proxy = await startFaultProxy({
        upstream: backend.upstream(servers()), name: backend.name, stallMs: 4 * READ_TIMEOUT_MS,
        // Completions get only faults the server never sees; the others are tested on their own.
        kindsFor: (req: ProxiedRequest) => (backend.isCompletion(req) ? UNSEEN_FAULT_KINDS : FAULT_KINDS),
      })
      direct = backend.direct(servers())
      await direct.put(bigKey, big)
      await direct.put(smallKey, small)
      await eachLimited([...topKeys, ...nestedKeys], 16, (key) => direct.put(key, key))
    }, 120_000)

    afterAll(async () => {
      if (!proxy) return
      const { requests, faults, byKind } = proxy.stats
      const kinds = Object.entries(byKind).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ')
      console.log(`[faults] ${backend.name}: ${faults} of ${requests} requests faulted (${kinds})`)
      await proxy.close()
    })

    describe('with retries', () => {
      it('puts arrive byte-identical: single, multipart from a buffer, multipart from a stream', async () => {
        const s = store(RETRIES)
        const multipart = randomBytes(12 * MiB + 777)
        const streamed = randomBytes(12 * MiB + 999)
        const chunks = Array.from({ length: Math.ceil(streamed.length / MiB) }, (_, i) => streamed.subarray(i * MiB, (i + 1) * MiB))
        // Besides the random faults, a cut-off answer to an upload's creation for certain
        // (S3: object_store reads the upload id after its retry loop).
        if (backend.isUploadCreation) proxy.failNext('truncate', { match: backend.isUploadCreation })
        await s.put(`${prefix}/put/single`, small)
        await s.put(`${prefix}/put/multipart`, multipart, { chunkSize: 5 * MiB, concurrency: 3 })
        await s.put(`${prefix}/put/stream`, Readable.from(chunks), { chunkSize: 5 * MiB, concurrency: 3 })
        expect(sha256(await bytesOf(direct, `${prefix}/put/single`))).toBe(sha256(small))
        expect(sha256(await bytesOf(direct, `${prefix}/put/multipart`))).toBe(sha256(multipart))
        expect(sha256(await bytesOf(direct, `${prefix}/put/stream`))).toBe(sha256(streamed))
        expect(proxy.pendingForced()).toBe(0)
      }, 90_000)

      it('a multipart upload whose completion answer is lost is whole, whether or not put() resolves', async () => {
        // A gap of object_store, not closed here: it repeats the completion, which the server
        // no longer knows, or reads the completion's answer after its retry loop, so put()
        // rejects although the object was written. What must hold: never resolved with the
        // object not whole, never an uncoded failure.
        const s = store(RETRIES)
        for (const fault of ['reset-answer-lost', 'stall-before-headers', 'truncate']) {
          const key = `${prefix}/put/answer-lost-${fault}`
          const body = randomBytes(6 * MiB + 1)
          proxy.failNext(fault, { match: backend.isCompletion })
          const outcome = await settle(s.put(key, body, { chunkSize: 5 * MiB }))
          expect(proxy.pendingForced()).toBe(0)
          if (!outcome.ok) {
            expect(DOCUMENTED_CODES).toContain(outcome.error.code)
            console.log(`[faults] ${backend.name}: completion ${fault}: put() rejected with ${outcome.error.code}, the object is whole`)
          }
          expect(sha256(await bytesOf(direct, key))).toBe(sha256(body))
        }
      }, 60_000)

      it('gets arrive byte-identical: bytes, stream, getRange, getRanges', async () => {
        const s = store(RETRIES)
        // Besides the random faults, one cut-off and one stalled body for certain.
        proxy.failNext('truncate', { match: bigGets })
        proxy.failNext('stall-mid-body', { match: bigGets })
        expect(sha256(await bytesOf(s, bigKey))).toBe(sha256(big))
        expect(sha256(await readAll((await s.get(bigKey)).stream()))).toBe(sha256(big))
        expect(sha256(await bytesOf(s, smallKey))).toBe(sha256(small))
        expect(sha256(await s.getRange(bigKey, 1000, 2 * MiB + 5))).toBe(sha256(big.subarray(1000, 2 * MiB + 5)))
        const ranges: Array<[number, number]> = [[0, 10], [5, 300_000], [MiB, 3 * MiB], [big.length - 7, big.length]]
        const parts = await s.getRanges(bigKey, ranges)
        expect(parts.map(sha256)).toEqual(ranges.map(([a, b]) => sha256(big.subarray(a, b))))
        expect(proxy.pendingForced()).toBe(0)
      }, 60_000)

      it('list and listWithDelimiter return every key once, though pages are cut off', async () => {
        const s = store(RETRIES)
        const expected = [...topKeys, ...nestedKeys].sort()
        // Besides the random faults, a cut-off first page and a stalled later page for certain
        // (Azure, one page: the first page stalls when asked for again).
        proxy.failNext('truncate', { match: backend.isList })
        proxy.failNext('stall-mid-body', { match: backend.isLaterListPage ?? backend.isList })
        const listed: string[] = []
        for await (const meta of s.list(listPrefix)) listed.push(meta.path)
        expect(proxy.pendingForced()).toBe(0)
        expect(listed.length).toBe(expected.length) // no key twice
        expect([...listed].sort()).toEqual(expected)

        proxy.failNext('truncate', { match: backend.isList })
        const oneLevel = await s.listWithDelimiter(listPrefix)
        expect(proxy.pendingForced()).toBe(0)
        expect(oneLevel.objects.map((m) => m.path).sort()).toEqual(topKeys)
        expect([...oneLevel.commonPrefixes].sort()).toEqual([`${listPrefix}/d1`, `${listPrefix}/d2`])

        const after = topKeys[topKeys.length - 200]!
        proxy.failNext('truncate', { match: backend.isList })
        const offsetListed: string[] = []
        for await (const meta of s.list(listPrefix, { offset: after })) offsetListed.push(meta.path)
        expect(offsetListed).toEqual(expected.filter((k) => k > after))
      }, 60_000)
    })

    describe('without retries', () => {
      it('each call arrives byte-identical or rejects with a coded StorageError', async () => {
        const s = store(NO_RETRIES)
        const expected = [...topKeys, ...nestedKeys].sort()
        const failures: string[] = []
        let successes = 0
        // Besides the random faults, one rejection for certain: the first read is cut off.
        proxy.failNext('truncate', { match: bigGets })
        const check = async <T>(call: () => Promise<T>, verify: (value: T) => void | Promise<void>) => {
          const outcome = await settle(call())
          if (outcome.ok) {
            await verify(outcome.value)
            successes++
          } else {
            expect(DOCUMENTED_CODES).toContain(outcome.error.code)
            failures.push(outcome.error.code)
          }
        }
        for (let round = 0; round < 4; round++) {
          const key = `${prefix}/no-retry/${round}`
          const body = randomBytes(100_000 + round)
          await check(() => s.put(key, body), async () => expect(sha256(await bytesOf(direct, key))).toBe(sha256(body)))
          await check(() => s.get(bigKey).then((r) => r.bytes()), (got) => expect(sha256(got)).toBe(sha256(big)))
          await check(() => s.get(bigKey).then((r) => readAll(r.stream())), (got) => expect(sha256(got)).toBe(sha256(big)))
          await check(() => s.get(smallKey).then((r) => r.bytes()), (got) => expect(sha256(got)).toBe(sha256(small)))
          await check(() => s.getRange(bigKey, 10, MiB), (got) => expect(sha256(got)).toBe(sha256(big.subarray(10, MiB))))
          await check(() => s.getRanges(bigKey, [[0, 100], [2 * MiB, 3 * MiB]]), (got) => {
            expect(got.map(sha256)).toEqual([sha256(big.subarray(0, 100)), sha256(big.subarray(2 * MiB, 3 * MiB))])
          })
          await check(async () => {
            const listed: string[] = []
            for await (const meta of s.list(listPrefix)) listed.push(meta.path)
            return listed
          }, (listed) => expect(listed.sort()).toEqual(expected))
          await check(() => s.listWithDelimiter(listPrefix), (r) => expect(r.objects.map((m) => m.path).sort()).toEqual(topKeys))
        }
        const multipart = randomBytes(12 * MiB + 3)
        await check(() => s.put(`${prefix}/no-retry/multipart`, multipart, { chunkSize: 5 * MiB, concurrency: 3 }),
          async () => expect(sha256(await bytesOf(direct, `${prefix}/no-retry/multipart`))).toBe(sha256(multipart)))
        console.log(`[faults] ${backend.name} without retries: ${successes} calls arrived, ${failures.length} rejected (${failures.join(', ')})`)
        expect(proxy.pendingForced()).toBe(0)
        expect(failures.length).toBeGreaterThan(0)
        expect(successes).toBeGreaterThan(0)
      }, 90_000)

      it('a body cut off or stalled rejects; it never resolves short', async () => {
        const s = store(NO_RETRIES)
        for (const fault of ['truncate', 'stall-mid-body', 'reset-after-headers']) {
          proxy.failNext(fault, { match: bigGets })
          const viaBytes = await settle(s.get(bigKey).then((r) => r.bytes()))
          expect(viaBytes.ok ? `resolved with ${viaBytes.value.length} of ${big.length} bytes` : viaBytes.error.code).toBe('GENERIC')

          proxy.failNext(fault, { match: bigGets })
          const viaStream = await settle(s.get(bigKey).then((r) => readAll(r.stream())))
          expect(viaStream.ok ? `resolved with ${viaStream.value.length} of ${big.length} bytes` : viaStream.error.code).toBe('GENERIC')

          proxy.failNext(fault, { match: bigGets })
          const range = await settle(s.getRange(bigKey, 0, 2 * MiB))
          expect(range.ok ? `resolved with ${range.value.length} bytes` : range.error.code).toBe('GENERIC')

          proxy.failNext(fault, { match: backend.isList })
          const oneLevel = await settle(s.listWithDelimiter(listPrefix))
          expect(oneLevel.ok ? `resolved with ${oneLevel.value.objects.length} objects` : oneLevel.error.code).toBe('GENERIC')
        }
        expect(proxy.pendingForced()).toBe(0)
      }, 60_000)
    })
  })
}
