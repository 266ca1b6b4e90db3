// Direct uploads on GCS and Azure, the way a browser does them (fetch, PUT to the signed URL with
// the ticket's headers), against fake-gcs-server (behind the repo's XML-API shim; it checks no
// signature) and Azurite (it checks SAS signatures and their expiry): prepare with and without a
// size, send, confirm, refusals at confirm (too large, spoofed, another type), tokens tampered
// with or expired, and the sweep. What each emulator enforces is asserted as it is, so the table
// in docs/web-uploads.md stays true.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  PENDING_PREFIX, confirmUpload, prepareUpload, storages, sweepUnconfirmed, type ObjectStore, type PrepareUploadOptions,
  type PreparedUpload,
} from '../../src/index.js'
import { makeAzure, makeGCS, uniquePrefix, useServers, verifyGcsSignedUrl } from '../cloud/helpers.js'
import { PNG_1X1, SECRET, elfBytes } from './helpers.js'

const servers = useServers(['gcs', 'azure'])

/** A copy of `bytes` that fetch takes as a body. */
const body = (bytes: Buffer): Uint8Array<ArrayBuffer> => new Uint8Array(bytes)

/** PUTs `bytes` where `ticket` says, with its headers (over `headers`, when given), as a browser would. */
function send(ticket: PreparedUpload, bytes: Buffer, headers: Record<string, string> = {}): Promise<Response> {
  expect(ticket.method).toBe('PUT')
  return fetch(ticket.url, { method: 'PUT', body: body(bytes), headers: { ...ticket.headers, ...headers } })
}

async function exists(store: ObjectStore, key: string): Promise<boolean> {
  return store.head(key).then(() => true, (error: { code?: string }) => {
    if (error.code === 'NOT_FOUND') return false
    throw error
  })
}

async function pendingMarkers(store: ObjectStore): Promise<string[]> {
  const found: string[] = []
  for await (const meta of store.list(PENDING_PREFIX)) found.push(meta.path)
  return found
}

/** A PNG of `size` bytes: a real 1x1 PNG followed by random bytes (its magic numbers intact). */
const pngOf = (size: number) => Buffer.concat([PNG_1X1, randomBytes(size - PNG_1X1.length)])

/** A token whose payload was changed (a larger maxSize) and its MAC kept. */
function tampered(token: string): string {
  const [version, payload, mac] = token.split('.')
  const forged = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>
  forged.maxSize = 10 ** 9
  return `${version}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${mac}`
}

const privateKey = () => (JSON.parse(servers().gcs!.serviceAccountKey) as { private_key: string }).private_key

/**
 * Each store and what its emulator is known to enforce on a signed PUT; the tests assert these,
 * so a change in an emulator (or in what stowage signs) shows up here.
 */
const TARGETS = [
  {
    kind: 'gcs',
    label: 'GCS on fake-gcs-server',
    make: (prefix: string) => makeGCS(servers().gcs!, { prefix }),
    /** The headers the ticket asks the browser to send: the size range is `size` exactly, or up to `maxSize`. */
    headers: (maxSize: number, size?: number) => ({
      'Content-Type': 'image/png',
      'x-goog-content-length-range': size === undefined ? `0,${maxSize}` : `${size},${size}`,
    }),
    /** fake-gcs-server verifies no signature: an altered or expired URL is accepted. */
    checksSignature: false,
  },
  {
    kind: 'azure',
    label: 'Azure on Azurite',
    make: (prefix: string) => makeAzure(servers().azure!, { prefix }),
    // A SAS binds no request header: the same headers whatever the limits.
    headers: () => ({ 'Content-Type': 'image/png', 'x-ms-blob-type': 'BlockBlob' }),
    /** Azurite verifies the SAS signature and its expiry. */
    checksSignature: true,
  },
] as const

for (const target of TARGETS) {
  describe(`direct uploads on ${target.label}`, () => {
    const backend = `web-direct-${target.kind}`
    let store: ObjectStore
    beforeAll(() => {
      store = target.make(uniquePrefix('direct'))
      storages.register(backend, store, { replace: true })
    })
    afterAll(() => { storages.unregister(backend) })

    const MAX = 64 * 1024
    const prepare = (extra: Partial<PrepareUploadOptions> = {}) =>
      prepareUpload({ backend, filename: 'photo.png', contentType: 'image/png', maxSize: MAX, expiresIn: 300, secret: SECRET, ...extra })

    /** GCS only: whether `url` is signed for these values of its signed headers (what real GCS checks). */
    const gcsSigned = (url: string, headers: Record<string, string>) => verifyGcsSignedUrl(url, 'PUT', privateKey(), headers)

    it('without a size: a signed PUT; the bytes sent with fetch round-trip through confirm', async () => {
      const ticket = await prepare()
      expect(ticket.method).toBe('PUT')
      expect(ticket.headers).toEqual(target.headers(MAX))
      expect(ticket.fields).toBeUndefined()
      if (target.kind === 'gcs') {
        // The type and the range 0..maxSize are signed: real GCS refuses a larger body, or another type.
        expect(new URL(ticket.url).searchParams.get('X-Goog-SignedHeaders')).toBe('content-type;host;x-goog-content-length-range')
        const signed = { 'content-type': 'image/png', 'x-goog-content-length-range': `0,${MAX}` }
        expect(gcsSigned(ticket.url, signed)).toBe(true)
        expect(gcsSigned(ticket.url, { ...signed, 'x-goog-content-length-range': `0,${MAX * 16}` })).toBe(false)
        expect(gcsSigned(ticket.url, { ...signed, 'content-type': 'text/html' })).toBe(false)
      }
      expect(await pendingMarkers(store)).toHaveLength(1)
      const bytes = pngOf(20_000)
      const res = await send(ticket, bytes)
      expect(res.status).toBe(target.kind === 'azure' ? 201 : 200)
      const file = await confirmUpload(ticket.token, { allowedContentTypes: ['image/*'], secret: SECRET })
      expect(file.toJSON()).toMatchObject({ backend, key: ticket.key, filename: 'photo.png', contentType: 'image/png', size: bytes.length })
      expect((await file.getContent()).equals(bytes)).toBe(true)
      expect((await store.head(ticket.key)).size).toBe(bytes.length)
      expect(await pendingMarkers(store)).toEqual([])
      await expect(confirmUpload(ticket.token, { secret: SECRET })).rejects.toMatchObject({ code: 'INVALID_TOKEN', reason: 'consumed' })
    })

    it('with the exact size: a signed PUT of that size; the bytes round-trip through confirm', async () => {
      const bytes = pngOf(3000)
      const ticket = await prepare({ size: bytes.length })
      expect(ticket.headers).toEqual(target.headers(MAX, bytes.length))
      if (target.kind === 'gcs') {
        // The type and the length range are signed headers: GCS refuses a PUT that sends others.
        expect(new URL(ticket.url).searchParams.get('X-Goog-SignedHeaders')).toBe('content-type;host;x-goog-content-length-range')
        const signed = { 'content-type': 'image/png', 'x-goog-content-length-range': `${bytes.length},${bytes.length}` }
        expect(gcsSigned(ticket.url, signed)).toBe(true)
        expect(gcsSigned(ticket.url, { ...signed, 'x-goog-content-length-range': `0,${MAX}` })).toBe(false)
        expect(gcsSigned(ticket.url, { ...signed, 'content-type': 'text/html' })).toBe(false)
      }
      expect((await send(ticket, bytes)).status).toBeLessThan(300)
      const file = await confirmUpload(ticket.token, { allowedContentTypes: ['image/png'], secret: SECRET })
      expect(file.size).toBe(bytes.length)
      expect((await file.getContent()).equals(bytes)).toBe(true)
    })

    // Real GCS refuses both PUTs: the range (0,1024, or exactly 1000) is signed and sent as
    // x-goog-content-length-range. fake-gcs-server ignores the header, and an Azure SAS cannot
    // bind a length at all: the emulators store the bytes, and confirm is what refuses them.
    const oversized = [
      ['a file over maxSize', { maxSize: 1024 }, 8192],
      ['more bytes than the size prepared', { size: 1000 }, 5000],
    ] as const
    for (const [what, limits, sent] of oversized) {
      it(`${what}: stored by the emulator, then refused at confirm (FILE_TOO_LARGE) and deleted`, async () => {
        const ticket = await prepare(limits)
        expect((await send(ticket, pngOf(sent))).status).toBeLessThan(300)
        expect(await exists(store, ticket.key)).toBe(true)
        await expect(confirmUpload(ticket.token, { secret: SECRET })).rejects.toMatchObject({ name: 'FileValidationError', code: 'FILE_TOO_LARGE' })
        expect(await exists(store, ticket.key)).toBe(false)
        expect(await pendingMarkers(store)).toEqual([])
      })
    }

    it('an executable renamed .png is stored, then refused at confirm (CONTENT_MISMATCH) and deleted', async () => {
      const ticket = await prepare()
      expect((await send(ticket, elfBytes())).status).toBeLessThan(300)
      expect(await exists(store, ticket.key)).toBe(true)
      await expect(confirmUpload(ticket.token, { allowedContentTypes: ['image/*'], secret: SECRET }))
        .rejects.toMatchObject({ name: 'FileValidationError', code: 'CONTENT_MISMATCH' })
      expect(await exists(store, ticket.key)).toBe(false)
    })

    it('a PUT that declares another type is stored with it, then refused at confirm and deleted', async () => {
      const ticket = await prepare()
      // GCS signs the Content-Type (the real service refuses another); fake-gcs-server checks no
      // signature, and an Azure SAS cannot bind it: the blob is stored as text/html.
      const res = await send(ticket, Buffer.from('<html><script>alert(1)</script></html>'), { 'Content-Type': 'text/html' })
      expect(res.status).toBeLessThan(300)
      expect(await exists(store, ticket.key)).toBe(true)
      const refused = await confirmUpload(ticket.token, { allowedContentTypes: ['image/*'], secret: SECRET }).catch((error: unknown) => error)
      expect(refused).toMatchObject({ name: 'FileValidationError', code: 'CONTENT_TYPE_NOT_ALLOWED' })
      expect((refused as Error).message).toContain('text/html')
      expect(await exists(store, ticket.key)).toBe(false)
    })

    it(`an altered URL is ${target.checksSignature ? 'refused by the emulator (403)' : 'accepted by the emulator (it checks no signature)'}`, async () => {
      const ticket = await prepare()
      const url = new URL(ticket.url)
      const param = target.kind === 'gcs' ? 'X-Goog-Signature' : 'sig'
      const signature = url.searchParams.get(param)!
      url.searchParams.set(param, `${signature.slice(0, -4)}${signature.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`)
      const res = await fetch(url, { method: 'PUT', body: body(PNG_1X1), headers: ticket.headers })
      if (target.checksSignature) {
        expect(res.status).toBe(403)
        expect(await exists(store, ticket.key)).toBe(false)
      } else {
        expect(res.status).toBeLessThan(300)
        // What real GCS checks, checked here offline: the altered signature does not verify.
        const signed = { 'content-type': 'image/png', 'x-goog-content-length-range': `0,${MAX}` }
        expect(gcsSigned(url.toString(), signed)).toBe(false)
        expect(gcsSigned(ticket.url, signed)).toBe(true)
        await store.delete(ticket.key)
      }
    })

    it('a tampered token is refused (signature), and the object it names is kept for the real token', async () => {
      const ticket = await prepare({ maxSize: 1024 })
      expect((await send(ticket, PNG_1X1)).status).toBeLessThan(300)
      await expect(confirmUpload(tampered(ticket.token), { secret: SECRET })).rejects.toMatchObject({ code: 'INVALID_TOKEN', reason: 'signature' })
      await expect(confirmUpload(ticket.token, { secret: `${SECRET}-rotated` })).rejects.toMatchObject({ code: 'INVALID_TOKEN', reason: 'signature' })
      expect(await exists(store, ticket.key)).toBe(true)
      expect((await confirmUpload(ticket.token, { secret: SECRET })).size).toBe(PNG_1X1.length)
    })

    it(`an expired ticket: its URL ${target.checksSignature ? 'is refused by the emulator' : 'still works on the emulator'}, its token is refused, the sweep removes what came`, async () => {
      const ticket = await prepare({ expiresIn: 1 })
      await new Promise((resolve) => setTimeout(resolve, 2100))
      const res = await send(ticket, PNG_1X1)
      if (target.checksSignature) {
        expect(res.status).toBe(403)
        expect(await exists(store, ticket.key)).toBe(false)
      } else {
        expect(res.status).toBeLessThan(300)
        expect(await exists(store, ticket.key)).toBe(true)
      }
      await expect(confirmUpload(ticket.token, { secret: SECRET })).rejects.toMatchObject({ code: 'INVALID_TOKEN', reason: 'expired' })
      const { removed } = await sweepUnconfirmed({ backend, olderThan: 0 })
      expect(removed).toContain(ticket.key)
      expect(await exists(store, ticket.key)).toBe(false)
    })

    it('sweepUnconfirmed removes what was prepared and never confirmed, and keeps what was', async () => {
      const never = await prepare()
      const sent = await prepare()
      expect((await send(sent, PNG_1X1)).status).toBeLessThan(300)
      const kept = await prepare()
      expect((await send(kept, PNG_1X1)).status).toBeLessThan(300)
      const confirmed = await confirmUpload(kept.token, { secret: SECRET })

      expect((await sweepUnconfirmed({ backend, olderThan: 60_000 })).removed).toEqual([])
      expect(await exists(store, sent.key)).toBe(true)
      const { removed } = await sweepUnconfirmed({ backend, olderThan: 0 })
      expect(removed.sort()).toEqual([never.key, sent.key].sort())
      expect(await exists(store, sent.key)).toBe(false)
      expect(await exists(store, never.key)).toBe(false)
      expect((await confirmed.getContent()).equals(PNG_1X1)).toBe(true)
      expect(await pendingMarkers(store)).toEqual([])
      await expect(confirmUpload(sent.token, { secret: SECRET })).rejects.toMatchObject({ code: 'INVALID_TOKEN', reason: 'consumed' })
    })
  })
}
