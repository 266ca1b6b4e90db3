/**
 * GCSStore against fake-gcs-server (behind the repo's XML-API shim). The
 * emulator accepts any signature, so signed URLs are also verified here
 * against the test service account's public key (V4, GOOG4-RSA-SHA256).
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GCSStore, fromUrl } from '../../src/index.js'
import { gcsOptions, makeGCS, rejectsWith, secrets, uniquePrefix, useServers, verifyGcsSignedUrl } from './helpers.js'
import { attributesSuite, conditionalSuite, multipartSuite, prefixSuite, signingSuite } from './shared.js'

const servers = useServers(['gcs'])
const server = () => servers().gcs!
let restoreOutput: () => void = () => {}
beforeAll(() => {
  restoreOutput = secrets.captureOutput()
  const key = JSON.parse(server().serviceAccountKey) as { private_key: string }
  // The key's body lines are what must never show.
  for (const line of key.private_key.split('\n')) if (line.length > 40) secrets.secret(line)
})
afterAll(() => restoreOutput())

async function pendingUploads(key: string): Promise<number> {
  const res = await fetch(server().shimUploadsUrl)
  const { uploads } = (await res.json()) as { uploads: Array<{ key: string }> }
  return uploads.filter((u) => u.key === key).length
}

const privateKey = () => (JSON.parse(server().serviceAccountKey) as { private_key: string }).private_key
const watched = (store: GCSStore) => { secrets.store(store); return store }

describe('GCSStore on fake-gcs-server', () => {
  attributesSuite(() => watched(makeGCS(server())))
  conditionalSuite(() => makeGCS(server()), { conditionalGet: true, updateNeedsVersion: true })
  multipartSuite({ store: () => watched(makeGCS(server())), pending: pendingUploads })
  prefixSuite((prefix) => watched(makeGCS(server(), { prefix })), () => makeGCS(server()))
  signingSuite({
    store: () => makeGCS(server()),
    serverVerifies: false,
    verifyOffline: (url, method) => verifyGcsSignedUrl(url, method, privateKey()),
    signatureParam: 'X-Goog-Signature',
  })

  it('signs with the service account from a file as well', async () => {
    const store = watched(new GCSStore({ bucket: server().bucket, serviceAccountPath: server().serviceAccountPath }))
    const key = `${uniquePrefix('sa-file')}/f.txt`
    await store.put(key, 'file account')
    const url = await store.signUrl('GET', key)
    expect(verifyGcsSignedUrl(url, 'GET', privateKey())).toBe(true)
    expect(await (await fetch(url)).text()).toBe('file account')
  })

  describe('V4 URLs with response headers, a signed type and length', () => {
    const disposition = `attachment; filename="report 1.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%201.pdf`

    it('a GET signs response-content-disposition and -type into the URL', async () => {
      const store = makeGCS(server())
      const key = `${uniquePrefix('gcs-rscd')}/r b+ü.bin`
      await store.put(key, 'report', { contentType: 'application/octet-stream' })
      const url = await store.signUrl('GET', key, { responseContentDisposition: disposition, responseContentType: 'text/csv' })
      const u = new URL(url)
      expect(u.searchParams.get('response-content-disposition')).toBe(disposition)
      expect(u.searchParams.get('response-content-type')).toBe('text/csv')
      expect(verifyGcsSignedUrl(url, 'GET', privateKey())).toBe(true)
      u.searchParams.set('response-content-disposition', 'inline')
      expect(verifyGcsSignedUrl(u.toString(), 'GET', privateKey())).toBe(false)
      const res = await fetch(url)
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('report')
      // Reported, not asserted: what fake-gcs-server does with the overrides (it verifies no signature).
      console.log(`fake-gcs-server answers a GET with response-content-disposition: content-disposition=${res.headers.get('content-disposition')}, content-type=${res.headers.get('content-type')}`)
    })

    it('a PUT signs content-type and x-goog-content-length-range', async () => {
      const store = makeGCS(server())
      const key = `${uniquePrefix('gcs-put-typed')}/up.png`
      const body = randomBytes(1234)
      const url = await store.signUrl('PUT', key, { contentType: 'image/png', contentLength: 1234 })
      const u = new URL(url)
      expect(u.searchParams.get('X-Goog-SignedHeaders')).toBe('content-type;host;x-goog-content-length-range')
      const headers = { 'content-type': 'image/png', 'x-goog-content-length-range': '1234,1234' }
      expect(verifyGcsSignedUrl(url, 'PUT', privateKey(), headers)).toBe(true)
      expect(verifyGcsSignedUrl(url, 'PUT', privateKey(), { ...headers, 'content-type': 'text/html' })).toBe(false)
      expect(verifyGcsSignedUrl(url, 'PUT', privateKey(), { ...headers, 'x-goog-content-length-range': '0,99999' })).toBe(false)
      const res = await fetch(url, { method: 'PUT', body, headers })
      expect(res.status).toBeGreaterThanOrEqual(200)
      expect(res.status).toBeLessThan(300)
      const meta = await store.head(key)
      expect(meta.size).toBe(1234)
    })

    it('a PUT signs a largest size as x-goog-content-length-range: 0,N (maxContentLength)', async () => {
      const store = makeGCS(server())
      const key = `${uniquePrefix('gcs-put-max')}/up.png`
      const url = await store.signUrl('PUT', key, { contentType: 'image/png', maxContentLength: 4096 })
      expect(new URL(url).searchParams.get('X-Goog-SignedHeaders')).toBe('content-type;host;x-goog-content-length-range')
      const headers = { 'content-type': 'image/png', 'x-goog-content-length-range': '0,4096' }
      expect(verifyGcsSignedUrl(url, 'PUT', privateKey(), headers)).toBe(true)
      expect(verifyGcsSignedUrl(url, 'PUT', privateKey(), { ...headers, 'x-goog-content-length-range': '0,4097' })).toBe(false)
      const body = randomBytes(1000)
      const res = await fetch(url, { method: 'PUT', body, headers })
      expect(res.status).toBeLessThan(300)
      expect((await store.head(key)).size).toBe(1000)
      const onlyRange = await store.signUrl('PUT', key, { maxContentLength: 10 })
      expect(new URL(onlyRange).searchParams.get('X-Goog-SignedHeaders')).toBe('host;x-goog-content-length-range')
      await rejectsWith(store.signUrl('PUT', key, { contentLength: 10, maxContentLength: 20 }), 'INVALID_CONFIG')
      await rejectsWith(store.signUrl('GET', key, { maxContentLength: 20 }), 'INVALID_CONFIG')
      await rejectsWith(store.signUrl('PUT', key, { maxContentLength: -1 }), 'INVALID_CONFIG')
    })

    it('options that do not fit the method are INVALID_CONFIG', async () => {
      const store = makeGCS(server())
      await rejectsWith(store.signUrl('PUT', 'k', { responseContentDisposition: 'inline' }), 'INVALID_CONFIG')
      await rejectsWith(store.signUrl('GET', 'k', { contentType: 'text/plain' }), 'INVALID_CONFIG')
      await rejectsWith(store.signUrl('GET', 'k', { responseContentType: 'text/plain\r\nx: y' }), 'INVALID_CONFIG')
    })
  })

  it('both serviceAccountPath and serviceAccountKey is INVALID_CONFIG', () => {
    expect(() => new GCSStore({ ...gcsOptions(server()), serviceAccountPath: server().serviceAccountPath }))
      .toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
  })

  it('a service account that is not JSON is INVALID_CONFIG and not echoed', () => {
    const junk = 'not-json-but-a-secret-looking-string'
    secrets.secret(junk)
    try {
      new GCSStore({ bucket: 'b', serviceAccountKey: junk })
      expect.unreachable()
    } catch (err) {
      secrets.error(err)
      expect((err as { code: string }).code).toBe('INVALID_CONFIG')
    }
  })

  it('a credential provider supplies the bearer token, cached until near expiry', async () => {
    let calls = 0
    const store = watched(new GCSStore({
      bucket: server().bucket,
      baseUrl: server().baseUrl,
      credentialProvider: async () => {
        calls += 1
        return { token: 'provider-bearer-token-xyz', expiresAt: Date.now() + 3600_000 }
      },
    }))
    secrets.secret('provider-bearer-token-xyz')
    const key = `${uniquePrefix('gcs-cred')}/c.txt`
    await store.put(key, 'c')
    await store.head(key)
    expect(await (await store.get(key)).text()).toBe('c')
    expect(calls).toBe(1)
    await rejectsWith(new GCSStore({
      bucket: server().bucket, baseUrl: server().baseUrl,
      credentialProvider: async () => ({ notAToken: true }) as never,
    }).head(key), 'UNAUTHENTICATED')
  })

  it('a missing bucket gives an error naming the bucket', async () => {
    // fake-gcs-server answers 500 here (real GCS: 404 NoSuchBucket), hence GENERIC.
    const store = makeGCS(server(), { bucket: 'no-such-gcs-bucket', retry: { maxRetries: 0 } })
    const err = await rejectsWith(store.put('x.txt', 'x'), ['NOT_FOUND', 'GENERIC'])
    expect(decodeURIComponent(err.message)).toMatch(/no-such-gcs-bucket/)
  })

  it('reads GOOGLE_* environment variables; explicit options win', async () => {
    const saved = { ...process.env }
    try {
      process.env.GOOGLE_SERVICE_ACCOUNT_KEY = server().serviceAccountKey
      process.env.GOOGLE_BUCKET = server().bucket
      const store = new GCSStore()
      const key = `${uniquePrefix('gcs-env')}/e.txt`
      await store.put(key, 'env')
      expect(await (await makeGCS(server()).get(key)).text()).toBe('env')
      // An explicit bucket wins over GOOGLE_BUCKET; an explicit path does not clash with the env key.
      process.env.GOOGLE_BUCKET = 'some-other-bucket'
      const explicit = new GCSStore({ bucket: server().bucket, serviceAccountPath: server().serviceAccountPath })
      expect(await (await explicit.get(key)).text()).toBe('env')
    } finally {
      for (const k of Object.keys(process.env)) if (k.startsWith('GOOGLE_') && !(k in saved)) delete process.env[k]
      Object.assign(process.env, saved)
    }
  })

  it('fromUrl("gs://bucket/prefix")', async () => {
    const prefix = uniquePrefix('gs-url')
    const store = fromUrl(`gs://${server().bucket}/${prefix}`, { serviceAccountKey: server().serviceAccountKey })
    secrets.store(store)
    expect(inspect(store)).toMatch(/^GCSStore\(gs:\/\/test-bucket\//)
    await store.put('u.txt', 'via gs url')
    expect(await (await makeGCS(server()).get(`${prefix}/u.txt`)).text()).toBe('via gs url')
  })

  describe("object_store's own CI account for fake-gcs-server (empty key: no local signing)", () => {
    /** Exactly what object_store's CI writes for fake-gcs-server, pointed at this emulator. */
    const emulatorAccount = () => JSON.stringify({
      gcs_base_url: server().baseUrl, disable_oauth: true, client_email: '', private_key: '', private_key_id: '',
    })
    let dir: string
    beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'stowage-gcs-account-')) })
    afterAll(() => rmSync(dir, { recursive: true, force: true }))

    const stores: Array<[string, () => GCSStore]> = [
      ['serviceAccountKey', () => new GCSStore({ bucket: server().bucket, serviceAccountKey: emulatorAccount() })],
      ['serviceAccountPath', () => {
        const path = join(dir, 'emulator-account.json')
        writeFileSync(path, emulatorAccount())
        return new GCSStore({ bucket: server().bucket, serviceAccountPath: path })
      }],
    ]
    for (const [option, make] of stores) {
      it(`as ${option}: put, get and list work; signUrl is NOT_SUPPORTED at once`, async () => {
        const store = watched(make())
        const prefix = uniquePrefix(`ci-account-${option}`)
        await store.put(`${prefix}/a.txt`, 'emulator account')
        expect(await (await store.get(`${prefix}/a.txt`)).text()).toBe('emulator account')
        const listed: string[] = []
        for await (const meta of store.list(prefix)) listed.push(meta.path)
        expect(listed).toEqual([`${prefix}/a.txt`])
        // object_store would ask Google's IAM signBlob API, with an empty token, to sign.
        const started = Date.now()
        const err = await rejectsWith(store.signUrl('GET', `${prefix}/a.txt`), 'NOT_SUPPORTED')
        expect(err.message).toMatch(/empty private_key/)
        await rejectsWith(store.signUrls('PUT', [`${prefix}/a.txt`, `${prefix}/b.txt`]), 'NOT_SUPPORTED')
        expect(Date.now() - started).toBeLessThan(5000)
        await store.delete(`${prefix}/a.txt`)
      })
    }

    it('a private_key that is there but not a PEM RSA key is still INVALID_CONFIG', () => {
      const account = JSON.stringify({ ...JSON.parse(emulatorAccount()), private_key: 'not a key' })
      expect(() => new GCSStore({ bucket: server().bucket, serviceAccountKey: account }))
        .toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
    })
  })

  it('no error message, console line or inspect() of a store in this suite shows a key', () => {
    expect(secrets.seen.length).toBeGreaterThan(5)
    expect(secrets.leaks()).toEqual([])
  })
})
