/**
 * S3Store against s3s-fs (checks SigV4 signatures, presigned URLs and expiry),
 * s3-mem-server (the bench's in-memory server: SigV4 checked, conditional GET,
 * ListMultipartUploads) and moto (ListMultipartUploads, conditional GET).
 */
import { inspect } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { S3Store, StorageError, fromUrl } from '../../src/index.js'
import { makeS3, pendingUploads, rejectsWith, s3Options, secrets, uniquePrefix, useServers } from './helpers.js'
import { attributesSuite, conditionalSuite, multipartSuite, prefixSuite, signingSuite } from './shared.js'

const servers = useServers(['s3', 's3mem', 's3moto'])
let restoreOutput: () => void = () => {}
beforeAll(() => {
  restoreOutput = secrets.captureOutput()
  const s = servers()
  secrets.secret(s.s3!.secretAccessKey, s.s3mem!.secretAccessKey, s.s3moto!.secretAccessKey)
})
afterAll(() => restoreOutput())

const watched = (store: S3Store) => { secrets.store(store); return store }

const S3_SERVERS = [
  { kind: 's3', label: 's3s-fs', verifiesSignatures: true, conditionalGet: false },
  { kind: 's3mem', label: 's3-mem-server', verifiesSignatures: true, conditionalGet: true },
  { kind: 's3moto', label: 'moto', verifiesSignatures: false, conditionalGet: true },
] as const

for (const { kind, label, verifiesSignatures, conditionalGet } of S3_SERVERS) {
  const server = () => servers()[kind]!

  describe(`S3Store on ${label}`, () => {
    attributesSuite(() => watched(makeS3(server())))
    conditionalSuite(() => makeS3(server()), { conditionalGet })
    multipartSuite({ store: () => watched(makeS3(server())), pending: (key) => pendingUploads(server(), key) })
    prefixSuite((prefix) => watched(makeS3(server(), { prefix })), () => makeS3(server()))
    signingSuite({ store: () => makeS3(server()), serverVerifies: verifiesSignatures, signatureParam: 'X-Amz-Signature' })
  })
}

describe('S3Store on s3-mem-server: credentials', () => {
  const server = () => servers().s3mem!

  // The bench measures against this server: it must refuse what a real S3 refuses, or a client
  // that signs wrongly would look fast there.
  it('a wrong secret gives UNAUTHENTICATED or PERMISSION_DENIED, without the secret', async () => {
    const wrong = 'definitely-not-the-secret-key-789'
    secrets.secret(wrong)
    const store = watched(makeS3(server(), { secretAccessKey: wrong }))
    await rejectsWith(store.put('x.txt', 'x'), ['UNAUTHENTICATED', 'PERMISSION_DENIED'])
    await rejectsWith(store.get('x.txt'), ['UNAUTHENTICATED', 'PERMISSION_DENIED'])
  })

  it('unsignedPayload: true uploads and reads back; a wrong secret is still refused', async () => {
    const key = `${uniquePrefix('unsigned')}/u.bin`
    const body = Buffer.alloc(3 * 1024 * 1024, 7)
    await makeS3(server(), { unsignedPayload: true }).put(key, body)
    expect((await (await makeS3(server()).get(key)).bytes()).equals(body)).toBe(true)
    const wrong = 'unsigned-wrong-secret-000'
    secrets.secret(wrong)
    await rejectsWith(makeS3(server(), { unsignedPayload: true, secretAccessKey: wrong }).put(key, 'x'), ['UNAUTHENTICATED', 'PERMISSION_DENIED'])
    expect((await (await makeS3(server()).get(key)).bytes()).equals(body)).toBe(true)
  })
})

describe('S3Store on s3s-fs: credentials and errors', () => {
  const server = () => servers().s3!

  it('a wrong secret gives UNAUTHENTICATED or PERMISSION_DENIED, without the secret', async () => {
    const wrong = 'definitely-not-the-secret-key-123'
    secrets.secret(wrong)
    const store = watched(makeS3(server(), { secretAccessKey: wrong }))
    await rejectsWith(store.put('x.txt', 'x'), ['UNAUTHENTICATED', 'PERMISSION_DENIED'])
    await rejectsWith(store.get('x.txt'), ['UNAUTHENTICATED', 'PERMISSION_DENIED'])
  })

  it('getRanges with a range past the end answers each range as getRange does (object_store panicked)', async () => {
    const store = makeS3(server())
    const key = `${uniquePrefix('ranges')}/small.bin`
    await store.put(key, 'abc')
    const single = await store.getRange(key, 629, 700).then((b) => `bytes ${b.length}`, (e: StorageError) => e.code)
    const many = await store.getRanges(key, [[0, 1], [629, 700]]).then((b) => `bytes ${b[1]!.length}`, (e: StorageError) => e)
    expect(typeof many === 'string' ? many : many.code).toBe(single)
    if (typeof many !== 'string') expect(many.message).not.toMatch(/panic/)
    const truncated = await store.getRanges(key, [[0, 1], [1, 700]])
    expect(truncated.map((b) => b.toString())).toEqual(['a', (await store.getRange(key, 1, 700)).toString()])
  })

  it("capabilities follow the configuration: conditionalPut 'disabled' turns off create and etag updates", async () => {
    const store = makeS3(server(), { conditionalPut: 'disabled' })
    expect(store.capabilities).toMatchObject({ create: false, conditionalPut: false, sign: true, multipart: true })
    expect(makeS3(server()).capabilities).toMatchObject({ create: true, conditionalPut: true })
    const key = `${uniquePrefix('caps')}/c.txt`
    await rejectsWith(store.put(key, 'x', { mode: 'create' }), 'NOT_SUPPORTED')
  })

  it('a missing bucket gives a clear error naming the bucket (moto)', async () => {
    const store = makeS3(servers().s3moto!, { bucket: 'no-such-bucket-here' })
    const err = await rejectsWith(store.put('x.txt', 'x'), ['NOT_FOUND', 'GENERIC'])
    expect(err.message).toMatch(/no-such-bucket-here|NoSuchBucket/)
  })

  it('calls the credential provider once while its credential is fresh', async () => {
    let calls = 0
    const store = watched(new S3Store(s3Options(server(), {
      accessKeyId: undefined, secretAccessKey: undefined,
      credentialProvider: async () => {
        calls += 1
        return { accessKeyId: server().accessKeyId, secretAccessKey: server().secretAccessKey, expiresAt: new Date(Date.now() + 3600_000) }
      },
    })))
    const base = uniquePrefix('cred')
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.put(`${base}/${i}`, `v${i}`)))
    for (let i = 0; i < 10; i++) expect(await (await store.get(`${base}/${i}`)).text()).toBe(`v${i}`)
    await store.signUrls('GET', [`${base}/0`, `${base}/1`])
    expect(calls).toBe(1)
  })

  it('calls the credential provider again when the credential nears expiry', async () => {
    let calls = 0
    const store = new S3Store(s3Options(server(), {
      accessKeyId: undefined, secretAccessKey: undefined,
      credentialProvider: () => {
        calls += 1
        // Within the 5-minute refresh window: stale by the next request.
        return { accessKeyId: server().accessKeyId, secretAccessKey: server().secretAccessKey, expiresAt: Date.now() + 60_000 }
      },
    }))
    const key = `${uniquePrefix('cred-exp')}/k`
    await store.put(key, 'a')
    await store.head(key)
    await store.head(key)
    expect(calls).toBe(3)
  })

  it('a credential provider that throws gives UNAUTHENTICATED', async () => {
    const store = new S3Store(s3Options(server(), {
      accessKeyId: undefined, secretAccessKey: undefined,
      credentialProvider: async () => { throw new Error('vault unreachable') },
    }))
    const err = await rejectsWith(store.put('x', 'x'), 'UNAUTHENTICATED')
    expect(err.message).toMatch(/vault unreachable/)
    const bad = new S3Store(s3Options(server(), {
      accessKeyId: undefined, secretAccessKey: undefined,
      credentialProvider: async () => ({ accessKeyId: 'only-the-id' }) as never,
    }))
    await rejectsWith(bad.put('x', 'x'), 'UNAUTHENTICATED')
  })

  it('a wrong credential from the provider is refused by the server', async () => {
    const wrong = 'provider-wrong-secret-456'
    secrets.secret(wrong)
    const store = new S3Store(s3Options(server(), {
      accessKeyId: undefined, secretAccessKey: undefined,
      credentialProvider: async () => ({ accessKeyId: server().accessKeyId, secretAccessKey: wrong }),
    }))
    await rejectsWith(store.put('x', 'x'), ['UNAUTHENTICATED', 'PERMISSION_DENIED'])
  })

  it('reads AWS_* environment variables; explicit options win', async () => {
    const saved = { ...process.env }
    try {
      process.env.AWS_ACCESS_KEY_ID = server().accessKeyId
      process.env.AWS_SECRET_ACCESS_KEY = server().secretAccessKey
      process.env.AWS_ENDPOINT = server().endpoint
      process.env.AWS_ALLOW_HTTP = 'true'
      process.env.AWS_REGION = server().region
      process.env.AWS_SESSION_TOKEN = 'env-session-token-that-must-not-be-paired'
      delete process.env.AWS_SESSION_TOKEN
      const fromEnv = watched(new S3Store({ bucket: server().bucket }))
      const key = `${uniquePrefix('env')}/e.txt`
      await fromEnv.put(key, 'from env')
      expect(await (await fromEnv.get(key)).text()).toBe('from env')

      // A bad key in the environment does not matter when explicit keys are given,
      // and an environment session token is not paired with them.
      process.env.AWS_SECRET_ACCESS_KEY = 'env-secret-that-is-wrong'
      process.env.AWS_SESSION_TOKEN = 'env-session-token-that-is-wrong'
      secrets.secret('env-secret-that-is-wrong', 'env-session-token-that-is-wrong')
      await rejectsWith(new S3Store({ bucket: server().bucket }).get(key), ['UNAUTHENTICATED', 'PERMISSION_DENIED'])
      const explicit = makeS3(server())
      expect(await (await explicit.get(key)).text()).toBe('from env')
    } finally {
      for (const k of Object.keys(process.env)) if (k.startsWith('AWS_') && !(k in saved)) delete process.env[k]
      Object.assign(process.env, saved)
    }
  })

  it('fromUrl("s3://bucket/prefix") with object_store option names', async () => {
    const prefix = uniquePrefix('url')
    const store = fromUrl(`s3://${server().bucket}/${prefix}`, {
      endpoint: server().endpoint, region: server().region, accessKeyId: server().accessKeyId,
      aws_secret_access_key: server().secretAccessKey, allow_http: true,
    })
    secrets.store(store)
    expect(inspect(store)).toMatch(/^S3Store\(s3:\/\/test-bucket\//)
    await store.put('k.txt', 'via url')
    expect(await (await makeS3(server()).get(`${prefix}/k.txt`)).text()).toBe('via url')
    await rejectsWith(Promise.resolve().then(() => fromUrl(`s3://${server().bucket}`, { nonsense_option: 'x' })), 'INVALID_CONFIG')
  })

  it('client and retry options pass through; bad values are INVALID_CONFIG', async () => {
    const store = makeS3(server(), {
      client: { connectTimeout: 2000, readTimeout: 10_000, timeout: 60_000, userAgent: 'stowage-test/1', poolIdleTimeout: 5000 },
      retry: { maxRetries: 2, retryTimeout: 5000, backoff: { initialDelay: 10, maxDelay: 100, base: 2 } },
    })
    await store.put(`${uniquePrefix('client')}/c.txt`, 'c')
    expect(() => makeS3(server(), { client: { timeout: -1 } })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
    expect(() => makeS3(server(), { client: { userAgent: 'bad\nagent' } })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
    expect(() => makeS3(server(), { retry: { backoff: { base: 0.5 } } })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
    expect(() => makeS3(server(), { prefix: 'a//b' })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
    expect(() => new S3Store({ region: 'x' })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
    // An unreachable endpoint fails fast with few retries instead of hanging.
    const dead = makeS3(server(), { endpoint: 'http://127.0.0.1:9', retry: { maxRetries: 0 }, client: { connectTimeout: 500 } })
    await rejectsWith(dead.head('x'), 'GENERIC')
  })

  it('allowHttp: false refuses an http endpoint', async () => {
    const store = makeS3(server(), { allowHttp: false })
    await rejectsWith(store.head('x'), ['INVALID_CONFIG', 'GENERIC'])
  })

  it('a store never shows a secret: inspect, String, JSON', () => {
    const token = 'session-token-abcdefgh'
    secrets.secret(token)
    const store = watched(makeS3(server(), { sessionToken: token, prefix: 'p' }))
    expect(inspect(store)).toBe(`S3Store(bucket="test-bucket", region="us-east-1", endpoint="${server().endpoint}", prefix="p")`)
  })
})

describe('S3 secrets', () => {
  it('no error message, console line or inspect() of a store in this suite shows a key', () => {
    expect(secrets.seen.length).toBeGreaterThan(10)
    expect(secrets.leaks()).toEqual([])
  })
})
