/**
 * Shared helpers of the cloud suites: the emulators' connection details, stores
 * built from them, and a recorder that proves no secret ever shows.
 */
import { createHash, createPublicKey, verify } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, inject } from 'vitest'
import { AzureStore, GCSStore, S3Store, StorageError } from '../../src/index.js'
import type { AzureOptions, GCSOptions, S3Options, Store } from '../../src/index.js'

export interface S3Server {
  kind: string; endpoint: string; region: string; bucket: string
  accessKeyId: string; secretAccessKey: string; allowHttp: boolean
}
export interface GCSServer {
  baseUrl: string; bucket: string; serviceAccountPath: string; serviceAccountKey: string
  clientEmail: string; shimUploadsUrl: string
}
export interface AzureServer {
  endpoint: string; blobStorageUrl: string; account: string; accessKey: string; container: string
}
export interface Servers {
  s3?: S3Server; s3mem?: S3Server; s3moto?: S3Server; gcs?: GCSServer; azure?: AzureServer; webdav?: { url: string }
}

type Kind = 's3' | 's3mem' | 's3moto' | 'gcs' | 'azure' | 'webdav'

/** The servers module (plain JavaScript, shared with the bench), typed for what these suites use. */
export interface ServersModule {
  startServers: (opts: { only: Kind[] }) => Promise<unknown>
  stopServers: () => Promise<void>
  azureRequest: (endpoint: string, method: string, subpath: string, init?: { headers?: Record<string, string>; body?: string }) => Promise<Response>
}
export async function serversModule(): Promise<ServersModule> {
  // @ts-expect-error -- a .mjs module without type declarations (tsconfig.json has no allowJs)
  return (await import('../../servers/index.mjs')) as ServersModule
}

declare module 'vitest' {
  interface ProvidedContext { servers: Servers | null }
}

/**
 * The emulators for `kinds`: those of the vitest globalSetup or
 * `STOWAGE_TEST_SERVERS` when present, else started for this file alone.
 */
export function useServers(kinds: Kind[]): () => Servers {
  let servers: Servers | null = null
  let started = false
  beforeAll(async () => {
    let provided: Servers | null = null
    try { provided = inject('servers') } catch { provided = null }
    if (!provided && process.env.STOWAGE_TEST_SERVERS) provided = JSON.parse(process.env.STOWAGE_TEST_SERVERS) as Servers
    if (provided && kinds.every((k) => provided[k])) {
      servers = provided
      return
    }
    const { startServers } = await serversModule()
    servers = (await startServers({ only: kinds })) as Servers
    started = true
  }, 120_000)
  afterAll(async () => {
    if (!started) return
    const { stopServers } = await serversModule()
    await stopServers()
  })
  return () => {
    if (!servers) throw new Error('servers not started')
    return servers
  }
}

let counter = 0
/** A prefix unique to one test, so tests never see each other's objects. */
export function uniquePrefix(name: string): string {
  counter += 1
  return `t-${process.pid}-${Date.now().toString(36)}-${counter}-${name}`
}

export function s3Options(server: S3Server, extra: S3Options = {}): S3Options {
  return {
    bucket: server.bucket, region: server.region, endpoint: server.endpoint,
    accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey, allowHttp: true, ...extra,
  }
}

export function gcsOptions(server: GCSServer, extra: GCSOptions = {}): GCSOptions {
  return { bucket: server.bucket, serviceAccountKey: server.serviceAccountKey, ...extra }
}

export function azureOptions(server: AzureServer, extra: AzureOptions = {}): AzureOptions {
  return {
    container: server.container, account: server.account, accessKey: server.accessKey,
    endpoint: server.endpoint, useEmulator: true, ...extra,
  }
}

/** Multipart uploads of `key` still open on `server` (moto and s3-mem-server list them; s3s-fs keeps files). */
export async function pendingUploads(server: S3Server, key: string): Promise<number> {
  if (server.kind === 's3s-fs') {
    // s3s-fs has no ListMultipartUploads; it keeps each open upload as
    // `.upload-<id>.json` (naming bucket and key) plus its parts in its data dir.
    const dir = (server as S3Server & { dataDir: string }).dataDir
    const open = readdirSync(dir).filter((f) => f.startsWith('.upload-') && f.endsWith('.json'))
    const parts = readdirSync(dir).filter((f) => f.startsWith('.upload_id-'))
    const mine = open.filter((f) => readFileSync(join(dir, f), 'utf8').includes(key))
    return mine.length + (mine.length === 0 ? 0 : parts.length)
  }
  const client = new S3Client({
    endpoint: server.endpoint, region: server.region, forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  })
  try {
    const out = await client.send(new ListMultipartUploadsCommand({ Bucket: server.bucket, Prefix: key }))
    return (out.Uploads ?? []).filter((u) => u.Key === key).length
  } finally {
    client.destroy()
  }
}

export const makeS3 = (server: S3Server, extra?: S3Options) => new S3Store(s3Options(server, extra))
export const makeGCS = (server: GCSServer, extra?: GCSOptions) => new GCSStore(gcsOptions(server, extra))
export const makeAzure = (server: AzureServer, extra?: AzureOptions) => new AzureStore(azureOptions(server, extra))

/** Expect `promise` to reject with a `StorageError` of `code`. */
export async function rejectsWith(promise: Promise<unknown>, code: string | string[]): Promise<StorageError> {
  const err = await promise.then(
    () => { throw new Error(`expected ${String(code)}, but the call succeeded`) },
    (e: unknown) => e,
  )
  if (!(err instanceof StorageError)) throw err
  secrets.error(err)
  const codes = Array.isArray(code) ? code : [code]
  if (!codes.includes(err.code)) throw new Error(`expected ${codes.join(' or ')}, got ${err.code}: ${err.message}`)
  return err
}

/**
 * Collects everything a user could see — error messages and causes, console
 * output, `util.inspect()` of stores — so a suite can check no secret is in it.
 */
class SecretWatch {
  readonly seen: string[] = []
  readonly secrets = new Set<string>()

  /** Register values that must never show. */
  secret(...values: Array<string | undefined>): void {
    for (const v of values) if (v && v.length >= 8) this.secrets.add(v)
  }

  error(err: unknown): void {
    let e: unknown = err
    for (let depth = 0; e && depth < 5; depth++) {
      if (e instanceof Error) {
        this.seen.push(e.message, e.stack ?? '', inspect(e))
        e = e.cause
      } else {
        this.seen.push(String(e))
        break
      }
    }
  }

  store(store: Store): void {
    this.seen.push(inspect(store), String(store), JSON.stringify(store) ?? '', inspect(store, { showHidden: true, depth: 5 }))
  }

  /** Capture console output and stderr writes while the suite runs. */
  captureOutput(): () => void {
    const originals = {
      log: console.log, warn: console.warn, error: console.error, info: console.info, debug: console.debug,
    }
    for (const name of Object.keys(originals) as Array<keyof typeof originals>) {
      console[name] = (...args: unknown[]) => {
        this.seen.push(args.map((a) => (typeof a === 'string' ? a : inspect(a))).join(' '))
        originals[name](...args)
      }
    }
    const write = process.stderr.write.bind(process.stderr)
    process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
      this.seen.push(String(chunk))
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest)
    })
    return () => {
      Object.assign(console, originals)
      process.stderr.write = write
    }
  }

  /** Every secret found in what was seen, as `secret prefix … in text`. */
  leaks(): string[] {
    const found: string[] = []
    for (const text of this.seen) {
      for (const secret of this.secrets) {
        if (text.includes(secret)) found.push(`${secret.slice(0, 4)}… in ${text.slice(0, 200)}`)
      }
    }
    return found
  }
}

export const secrets = new SecretWatch()

/**
 * How the server refused a request: `"<status> <body>"`, or `"connection <code>"` when it answered
 * from the headers (the policy) and closed the connection while the body was still being written
 * (EPIPE or ECONNRESET in fetch), as S3 itself may. Either is a refusal.
 */
export function refusalOf(response: Promise<Response>): Promise<string> {
  return response.then(
    async (res) => `${res.status} ${await res.text()}`,
    (error: Error & { cause?: { code?: string } }) => `connection ${error.cause?.code ?? error.message}`,
  )
}

/** RFC 3986 encoding, as V4 canonical requests use. */
const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

/**
 * Check a V4 signed URL against the service account's public key; `headers` are the values
 * of the signed headers other than `host` the request would send.
 */
export function verifyGcsSignedUrl(url: string, method: string, privateKeyPem: string, headers: Record<string, string> = {}): boolean {
  const u = new URL(url)
  const params = [...u.searchParams.entries()].filter(([k]) => k !== 'X-Goog-Signature')
  const signature = u.searchParams.get('X-Goog-Signature')
  if (!signature || u.searchParams.get('X-Goog-Algorithm') !== 'GOOG4-RSA-SHA256') return false
  const query = params
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
  const signedHeaders = u.searchParams.get('X-Goog-SignedHeaders') ?? 'host'
  // object_store always signs `host: storage.googleapis.com` (the real service's host),
  // whatever base URL the store talks to.
  const values: Record<string, string> = { ...headers, host: 'storage.googleapis.com' }
  const lines = signedHeaders.split(';').map((name) => `${name}:${values[name] ?? ''}\n`).join('')
  const canonical = [method, u.pathname, query, lines, signedHeaders, 'UNSIGNED-PAYLOAD'].join('\n')
  const date = u.searchParams.get('X-Goog-Date')!
  const scope = u.searchParams.get('X-Goog-Credential')!.split('/').slice(1).join('/')
  const stringToSign = ['GOOG4-RSA-SHA256', date, scope, createHash('sha256').update(canonical).digest('hex')].join('\n')
  const publicKey = createPublicKey(privateKeyPem)
  return verify('sha256', Buffer.from(stringToSign), publicKey, Buffer.from(signature, 'hex'))
}
