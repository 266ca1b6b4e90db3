/**
 * Credentials in URLs never show: not in a store's description, not in any part of
 * an error (message, path, stack, cause), whether the URL was given by the user or
 * quoted by the HTTP client in a failed request.
 */
import { generateKeyPairSync } from 'node:crypto'
import { createServer } from 'node:net'
import { inspect } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { AzureStore, GCSStore, HTTPStore, S3Store, StorageError, fromUrl } from '../src/index.js'
import type { Store } from '../src/index.js'

/** Every marker of a secret planted below; none may ever show. */
const SECRET = /SECRET|AKID:/

/** Everything a user could see of an error: its own text and its whole cause chain. */
function errorTexts(err: unknown): string[] {
  const seen = [String(err), inspect(err, { depth: 10, showHidden: true })]
  let current: unknown = err
  for (let depth = 0; current !== undefined && depth < 10; depth++) {
    if (current instanceof Error) {
      seen.push(current.message, current.stack ?? '', String(current), inspect(current))
      if (current instanceof StorageError) seen.push(String(current.path))
      current = current.cause
    } else {
      seen.push(String(current))
      break
    }
  }
  return seen
}

function storeTexts(store: Store): string[] {
  return [inspect(store), String(store), `${store}`, inspect(store, { showHidden: true, depth: 5 }), JSON.stringify(store) ?? '']
}

/** The texts that contain a secret; empty when none does. */
function leaks(texts: string[]): string[] {
  return texts.filter((text) => SECRET.test(text))
}

/** What `build` throws, or the store it returns. */
function attempt(build: () => Store): { err?: unknown; store?: Store } {
  try {
    return { store: build() }
  } catch (err) {
    return { err }
  }
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => { throw new Error('expected the operation to fail') }, (err: unknown) => err)
}

/** A TCP port nothing listens on (it was bound a moment ago, then released). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

const noRetry = { maxRetries: 0 }

describe('secrets in URLs never show', () => {
  let port: number

  beforeAll(async () => {
    port = await closedPort()
  })

  it('an S3Store endpoint with userinfo is described without it', async () => {
    const store = new S3Store({
      bucket: 'b', region: 'us-east-1', accessKeyId: 'id', secretAccessKey: 'key',
      endpoint: 'http://AKID:SECRETVALUE@127.0.0.1:1', allowHttp: true, retry: noRetry,
    })
    expect(leaks(storeTexts(store))).toEqual([])
    expect(String(store)).toContain('127.0.0.1:1')
  })

  it('an S3Store request failing against an endpoint with userinfo does not show it', async () => {
    const store = new S3Store({
      bucket: 'b', region: 'us-east-1', accessKeyId: 'id', secretAccessKey: 'key',
      endpoint: `http://AKID:SECRETVALUE@127.0.0.1:${port}`, allowHttp: true, retry: noRetry,
    })
    const err = await failure(store.get('k'))
    expect(err).toBeInstanceOf(StorageError)
    expect(leaks(errorTexts(err))).toEqual([])
  })

  it('fromUrl errors and descriptions show no userinfo and no credential query parameter', () => {
    const query = '?sig=SECRETSAS&X-Amz-Signature=SECRETSIGV4&x-goog-signature=SECRETGOOG&token=SECRETTOK'
    const urls = [
      `http://AKID:SECRETVALUE@127.0.0.1:99999/${query}`,
      `https://AKID:SECRETVALUE@[::1/${query}`,
      `nope://AKID:SECRETVALUE@host/${query}`,
      `file://AKID:SECRETVALUE@host/dir${query}`,
      `s3://AKID:SECRETVALUE@bucket/prefix${query}`,
      `gs://AKID:SECRETVALUE@bucket/prefix${query}`,
      `az://AKID:SECRETVALUE@container/prefix${query}`,
      `https://AKID:SECRETVALUE@example.invalid/path${query}`,
      `AKID:SECRETVALUE@bucket/prefix${query}`,
      `AKID:SECRETVALUE@127.0.0.1:99999${query}`,
    ]
    for (const url of urls) {
      const { err, store } = attempt(() => fromUrl(url))
      if (err !== undefined) {
        expect(err, url).toBeInstanceOf(StorageError)
        expect(leaks(errorTexts(err)), url).toEqual([])
      } else {
        expect(leaks(storeTexts(store!)), url).toEqual([])
      }
    }
    // The one that cannot be parsed still says what went wrong, and where.
    const { err } = attempt(() => fromUrl(urls[0]!))
    expect((err as StorageError).code).toBe('INVALID_CONFIG')
    expect((err as StorageError).message).toContain('127.0.0.1:99999')
  })

  it('an HTTPStore request failing shows neither userinfo nor a token', async () => {
    const store = new HTTPStore(`http://user:SECRETPW@127.0.0.1:${port}/?token=SECRETTOK`, { retry: noRetry })
    expect(leaks(storeTexts(store))).toEqual([])
    const err = await failure(store.get('k'))
    expect(err).toBeInstanceOf(StorageError)
    expect(leaks(errorTexts(err))).toEqual([])
    expect((err as StorageError).message).toContain(`127.0.0.1:${port}`)
  })

  it('an HTTPStore that cannot be built does not quote its URL', () => {
    const { err } = attempt(() => new HTTPStore(`ftp://user:SECRETPW@host/?token=SECRETTOK`))
    expect(err).toBeInstanceOf(StorageError)
    expect(leaks(errorTexts(err))).toEqual([])
  })

  it('an AzureStore request failing does not show its SAS signature', async () => {
    const store = new AzureStore({
      account: 'devstoreaccount1', container: 'c', allowHttp: true, retry: noRetry,
      endpoint: `http://127.0.0.1:${port}/devstoreaccount1`,
      sasToken: 'sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2099-01-01T00:00:00Z&spr=https,http&sig=SECRETSIG%2Babc%3D',
    })
    expect(leaks(storeTexts(store))).toEqual([])
    for (const op of [() => store.get('k'), () => store.head('k'), () => store.listWithDelimiter('')]) {
      const err = await failure(op())
      expect(err).toBeInstanceOf(StorageError)
      expect(leaks(errorTexts(err))).toEqual([])
    }
  })
})

describe('keys our own URL signers hold never show', () => {
  /** A valid base64 account key made of the marker, so any echo of it is caught. */
  const azureKey = 'SECRETKEYSECRETKEYSECRETKEYSECRETKEY'
  const azure = () => new AzureStore({
    account: 'devstoreaccount1', container: 'c', accessKey: azureKey, allowHttp: true,
    endpoint: 'http://127.0.0.1:1/devstoreaccount1', retry: noRetry,
  })

  it('an AzureStore signing SAS URLs with its key: descriptions and refused options', async () => {
    const store = azure()
    expect(leaks(storeTexts(store))).toEqual([])
    const url = await store.signUrl('GET', 'k', { responseContentDisposition: 'inline' })
    expect(url).not.toMatch(SECRET)
    for (const op of [
      () => store.signUrl('PUT', 'k', { contentType: 'text/plain' }),
      () => store.signUrl('PUT', 'k', { responseContentType: 'text/plain' }),
      () => store.signUrl('GET', 'k', { responseContentDisposition: 'a\r\nb' }),
      () => store.signUrls('POST' as never, ['k']),
    ]) {
      const err = await failure(op())
      expect(err).toBeInstanceOf(StorageError)
      expect(leaks(errorTexts(err))).toEqual([])
    }
  })

  it('an AzureStore key that is not base64 is INVALID_CONFIG, not quoted', () => {
    const { err } = attempt(() => new AzureStore({ account: 'a', container: 'c', accessKey: 'SECRET not base64!' }))
    expect((err as StorageError).code).toBe('INVALID_CONFIG')
    expect(leaks(errorTexts(err))).toEqual([])
  })

  it('a GCSStore signing V4 URLs with its account key: the key shows nowhere', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    const keyLines = pem.split('\n').filter((line) => line.length > 40)
    const account = JSON.stringify({ client_email: 'signer@example.iam.gserviceaccount.com', private_key: pem, private_key_id: 'id', disable_oauth: true })
    const store = new GCSStore({ bucket: 'b', serviceAccountKey: account, baseUrl: 'http://127.0.0.1:1', retry: noRetry })
    const shown = (texts: string[]) => texts.filter((text) => keyLines.some((line) => text.includes(line)))
    expect(shown(storeTexts(store))).toEqual([])
    const url = await store.signUrl('PUT', 'k', { contentType: 'image/png', contentLength: 10 })
    expect(shown([url])).toEqual([])
    for (const op of [
      () => store.signUrl('GET', 'k', { contentType: 'image/png' }),
      () => store.signUrl('PUT', 'k', { contentType: 'é' }),
      () => store.signUrl('PUT', 'k', { contentLength: -1 }),
    ]) {
      const err = await failure(op())
      expect(err).toBeInstanceOf(StorageError)
      expect(shown(errorTexts(err))).toEqual([])
    }
  })

  it('a GCSStore private_key that is not an RSA key is INVALID_CONFIG, not quoted', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nSECRETSECRETSECRETSECRETSECRETSECRET\n-----END PRIVATE KEY-----\n'
    for (const disable_oauth of [true, false]) {
      const account = JSON.stringify({ client_email: 'e@x', private_key: pem, private_key_id: 'id', disable_oauth })
      const { err } = attempt(() => new GCSStore({ bucket: 'b', serviceAccountKey: account }))
      expect((err as StorageError).code).toBe('INVALID_CONFIG')
      expect(leaks(errorTexts(err))).toEqual([])
    }
  })
})
