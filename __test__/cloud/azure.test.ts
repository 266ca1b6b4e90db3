/**
 * AzureStore against Azurite (checks shared-key and SAS signatures and expiry).
 */
import { createHmac } from 'node:crypto'
import { inspect } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AzureStore, fromUrl } from '../../src/index.js'
import { azureOptions, makeAzure, rejectsWith, secrets, serversModule, uniquePrefix, useServers } from './helpers.js'
import { attributesSuite, conditionalSuite, multipartSuite, prefixSuite, signingSuite } from './shared.js'

const servers = useServers(['azure'])
const server = () => servers().azure!
let restoreOutput: () => void = () => {}
beforeAll(() => {
  restoreOutput = secrets.captureOutput()
  secrets.secret(server().accessKey)
})
afterAll(() => restoreOutput())

/** Uncommitted blocks Azurite holds for `key` (Azure's equivalent of a pending multipart upload). */
async function uncommittedBlocks(key: string): Promise<number> {
  const { azureRequest } = await serversModule()
  const path = `${server().container}/${key.split('/').map(encodeURIComponent).join('/')}?comp=blocklist&blocklisttype=uncommitted`
  const res = await azureRequest(server().endpoint, 'GET', path)
  const body = await res.text()
  if (res.status === 404) return 0
  return (body.match(/<Block>/g) ?? []).length
}

/** A service SAS for the container, made the way Azure documents it (2020-12-06 layout). */
function containerSas(permissions: string, expiresInSeconds: number): string {
  const now = new Date(Date.now() - 60_000)
  const expiry = new Date(Date.now() + expiresInSeconds * 1000)
  const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z')
  const version = '2020-12-06'
  const resource = `/blob/${server().account}/${server().container}`
  const fields = [permissions, iso(now), iso(expiry), resource, '', '', 'http', version, 'c', '', '', '', '', '', '', '']
  const sig = createHmac('sha256', Buffer.from(server().accessKey, 'base64')).update(fields.join('\n'), 'utf8').digest('base64')
  const q = new URLSearchParams({ sv: version, st: iso(now), se: iso(expiry), sr: 'c', sp: permissions, spr: 'http', sig })
  secrets.secret(sig)
  return q.toString()
}

const watched = (store: AzureStore) => { secrets.store(store); return store }

describe('AzureStore on Azurite', () => {
  attributesSuite(() => watched(makeAzure(server())))
  conditionalSuite(() => makeAzure(server()), { conditionalGet: true })
  multipartSuite({
    store: () => watched(makeAzure(server())),
    pending: uncommittedBlocks,
    // Azure has no "abort": blocks staged but never committed stay until Azure
    // garbage-collects them (7 days); object_store's abort is a no-op. No object appears.
    partsOutliveAbort: 'Azure keeps uncommitted blocks until it garbage-collects them',
  })
  prefixSuite((prefix) => watched(makeAzure(server(), { prefix })), () => makeAzure(server()))
  // Our SAS signer names the key as stored in the string to sign (object_store 0.14.2 signs
  // its percent-encoded form, which Azurite refuses for any key that needs encoding).
  signingSuite({ store: () => makeAzure(server()), serverVerifies: true, signatureParam: 'sig' })

  describe('SAS URLs with response headers (rscd, rsct)', () => {
    const disposition = `attachment; filename="report 1.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%201.pdf`

    it('keys that need percent-encoding sign and fetch', async () => {
      const store = makeAzure(server())
      for (const name of ['sp ace.txt', 'ü/100%.txt', 'a+b (1)&c=d;e.txt', 'q?h#x.txt']) {
        const key = `${uniquePrefix('az-sign-odd')}/${name}`
        await store.put(key, name)
        const res = await fetch(await store.signUrl('GET', key))
        expect(res.status, name).toBe(200)
        expect(await res.text()).toBe(name)
      }
    })

    it('a GET returns the signed Content-Disposition and Content-Type', async () => {
      const store = makeAzure(server())
      const key = `${uniquePrefix('az-rscd')}/r.bin`
      await store.put(key, 'report', { contentType: 'application/octet-stream' })
      const url = await store.signUrl('GET', key, { responseContentDisposition: disposition, responseContentType: 'text/csv' })
      expect(new URL(url).searchParams.get('rscd')).toBe(disposition)
      const res = await fetch(url)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-disposition')).toBe(disposition)
      expect(res.headers.get('content-type')).toBe('text/csv')
      expect(await res.text()).toBe('report')
      const head = await fetch(await store.signUrl('HEAD', key, { responseContentDisposition: 'inline' }), { method: 'HEAD' })
      expect(head.status).toBe(200)
      expect(head.headers.get('content-disposition')).toBe('inline')
    })

    it('a changed rscd, or one past its expiry, is refused', async () => {
      const store = makeAzure(server())
      const key = `${uniquePrefix('az-rscd-bad')}/r.txt`
      await store.put(key, 'x')
      const url = new URL(await store.signUrl('GET', key, { responseContentDisposition: 'attachment; filename="a.txt"' }))
      url.searchParams.set('rscd', 'inline')
      expect((await fetch(url)).status).toBe(403)
      const short = await store.signUrl('GET', key, { responseContentDisposition: 'inline', expiresIn: 1 })
      await new Promise((resolve) => setTimeout(resolve, 2100))
      expect((await fetch(short)).status).toBe(403)
    })

    it('a PUT signed with contentType, contentLength or maxContentLength is NOT_SUPPORTED (a SAS cannot bind them)', async () => {
      const store = makeAzure(server())
      await rejectsWith(store.signUrl('PUT', 'k.txt', { contentType: 'text/plain' }), 'NOT_SUPPORTED')
      await rejectsWith(store.signUrl('PUT', 'k.txt', { contentLength: 3 }), 'NOT_SUPPORTED')
      await rejectsWith(store.signUrl('PUT', 'k.txt', { maxContentLength: 3 }), 'NOT_SUPPORTED')
      await rejectsWith(store.signUrl('PUT', 'k.txt', { responseContentType: 'text/plain' }), 'INVALID_CONFIG')
    })

    it('a store signing through object_store (a credential provider) refuses the options', async () => {
      const store = watched(new AzureStore({
        container: server().container, endpoint: server().endpoint, useEmulator: true,
        credentialProvider: async () => ({ accessKey: server().accessKey }),
      }))
      const key = `${uniquePrefix('az-provider-sign')}/p.txt`
      await store.put(key, 'p')
      expect((await fetch(await store.signUrl('GET', key))).status).toBe(200)
      await rejectsWith(store.signUrl('GET', key, { responseContentDisposition: 'inline' }), 'NOT_SUPPORTED')
    })
  })

  it('after an aborted multipart upload, what is left is only uncommitted blocks', async () => {
    const store = makeAzure(server())
    const key = `${uniquePrefix('az-abort')}/a.bin`
    const controller = new AbortController()
    async function* source() {
      yield Buffer.alloc(6 * 1024 * 1024, 1)
      controller.abort()
      yield Buffer.alloc(1024, 2)
    }
    await rejectsWith(store.put(key, source(), { chunkSize: 5 * 1024 * 1024, signal: controller.signal }), 'ABORTED')
    await rejectsWith(store.head(key), 'NOT_FOUND')
    const listed: string[] = []
    for await (const m of store.list(key.split('/')[0])) listed.push(m.path)
    expect(listed).toEqual([])
    // Reported, not asserted: Azurite's view of the staged blocks.
    console.log(`uncommitted blocks left after abort: ${await uncommittedBlocks(key)}`)
  })

  it('emulator mode through AZURITE_BLOB_STORAGE_URL (no endpoint) works too', async () => {
    const saved = process.env.AZURITE_BLOB_STORAGE_URL
    process.env.AZURITE_BLOB_STORAGE_URL = server().blobStorageUrl
    try {
      const store = watched(new AzureStore({ container: server().container, useEmulator: true }))
      const key = `${uniquePrefix('az-emu')}/e.txt`
      await store.put(key, 'emulator')
      expect(await (await makeAzure(server()).get(key)).text()).toBe('emulator')
      const listed: string[] = []
      await store.put(`${key}.2`, 'x')
      for await (const m of store.list(key.split('/')[0], { offset: key })) listed.push(m.path)
      expect(listed).toEqual([`${key}.2`])
    } finally {
      if (saved === undefined) delete process.env.AZURITE_BLOB_STORAGE_URL
      else process.env.AZURITE_BLOB_STORAGE_URL = saved
    }
  })

  it('list with an offset skips keys at or before it (Azurite ignores startFrom)', async () => {
    const store = makeAzure(server())
    const base = uniquePrefix('az-offset')
    for (const k of ['a', 'b', 'c']) await store.put(`${base}/${k}`, k)
    const listed: string[] = []
    for await (const m of store.list(base, { offset: `${base}/a` })) listed.push(m.path)
    expect(listed).toEqual([`${base}/b`, `${base}/c`])
  })

  it('a SAS token works as the credential', async () => {
    const store = watched(new AzureStore({
      container: server().container, account: server().account, endpoint: server().endpoint,
      allowHttp: true, sasToken: containerSas('racwdl', 600),
    }))
    const key = `${uniquePrefix('az-sas')}/s.txt`
    await store.put(key, 'sas')
    expect(await (await store.get(key)).text()).toBe('sas')
    // A missing object: the error names the URL, never the SAS signature.
    await rejectsWith(store.get(`${key}.missing`), 'NOT_FOUND')
    // object_store can only presign with an account key, not with a SAS.
    await rejectsWith(store.signUrl('GET', key), ['NOT_SUPPORTED', 'GENERIC', 'INVALID_CONFIG', 'UNAUTHENTICATED', 'PERMISSION_DENIED'])
  })

  it('a credential provider supplies the key, or a SAS, cached until near expiry', async () => {
    let calls = 0
    const store = watched(new AzureStore({
      container: server().container, endpoint: server().endpoint, useEmulator: true,
      credentialProvider: async () => {
        calls += 1
        return { accessKey: server().accessKey, expiresAt: new Date(Date.now() + 3600_000) }
      },
    }))
    const key = `${uniquePrefix('az-cred')}/c.txt`
    await store.put(key, 'c')
    await store.head(key)
    expect(await (await store.get(key)).text()).toBe('c')
    expect(calls).toBe(1)

    let sasCalls = 0
    const sasStore = new AzureStore({
      container: server().container, endpoint: server().endpoint, useEmulator: true,
      credentialProvider: () => {
        sasCalls += 1
        return { sasToken: containerSas('racwdl', 120), expiresAt: Date.now() + 120_000 }
      },
    })
    expect(await (await sasStore.get(key)).text()).toBe('c')
    await sasStore.head(key)
    expect(sasCalls).toBe(2) // two minutes left is inside the refresh window
  })

  it('a wrong key gives UNAUTHENTICATED or PERMISSION_DENIED, without the key', async () => {
    const wrong = Buffer.from('this is not the azurite account key at all').toString('base64')
    secrets.secret(wrong)
    const store = watched(makeAzure(server(), { accessKey: wrong }))
    await rejectsWith(store.put('x.txt', 'x'), ['UNAUTHENTICATED', 'PERMISSION_DENIED'])
    expect(() => makeAzure(server(), { accessKey: 'not base64 !!' })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
  })

  it('a missing container gives NOT_FOUND naming it', async () => {
    const store = makeAzure(server(), { container: 'no-such-container' })
    const err = await rejectsWith(store.put('x.txt', 'x'), ['NOT_FOUND', 'GENERIC'])
    expect(err.message).toMatch(/no-such-container|ContainerNotFound/)
  })

  it('reads AZURE_* environment variables; explicit options win', async () => {
    const saved = { ...process.env }
    try {
      process.env.AZURE_STORAGE_ACCOUNT_NAME = server().account
      process.env.AZURE_STORAGE_ACCOUNT_KEY = server().accessKey
      process.env.AZURE_STORAGE_ENDPOINT = server().endpoint
      process.env.AZURE_CONTAINER_NAME = server().container
      process.env.AZURE_ALLOW_HTTP = 'true'
      const store = new AzureStore()
      const key = `${uniquePrefix('az-env')}/e.txt`
      await store.put(key, 'env')
      expect(await (await makeAzure(server()).get(key)).text()).toBe('env')
      process.env.AZURE_STORAGE_ACCOUNT_KEY = Buffer.from('wrong key from the environment!').toString('base64')
      secrets.secret(process.env.AZURE_STORAGE_ACCOUNT_KEY)
      expect(await (await makeAzure(server()).get(key)).text()).toBe('env')
    } finally {
      for (const k of Object.keys(process.env)) if (k.startsWith('AZURE_') && !(k in saved)) delete process.env[k]
      Object.assign(process.env, saved)
    }
  })

  it('fromUrl("az://container/prefix")', async () => {
    const prefix = uniquePrefix('az-url')
    const store = fromUrl(`az://${server().container}/${prefix}`, {
      account_name: server().account, accessKey: server().accessKey, endpoint: server().endpoint, allow_http: true,
    })
    secrets.store(store)
    expect(inspect(store)).toMatch(/^AzureStore\(az:\/\/test-bucket\//)
    await store.put('u.txt', 'via az url')
    expect(await (await makeAzure(server()).get(`${prefix}/u.txt`)).text()).toBe('via az url')
  })

  it('the store description shows no key', () => {
    const store = makeAzure(server())
    expect(inspect(store)).toBe(`AzureStore(container="test-bucket", account="devstoreaccount1", endpoint="${server().endpoint}", emulator)`)
    expect(inspect(new AzureStore(azureOptions(server(), { prefix: 'p/q' })))).toContain('prefix="p/q"')
  })

  it('no error message, console line or inspect() of a store in this suite shows a key', () => {
    expect(secrets.seen.length).toBeGreaterThan(5)
    expect(secrets.leaks()).toEqual([])
  })
})
