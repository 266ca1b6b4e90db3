/**
 * The cloud stores: `S3Store`, `GCSStore`, `AzureStore` and `HTTPStore`.
 *
 * Each reads the standard environment variables `object_store` reads
 * (`AWS_*`, `GOOGLE_*`, `AZURE_*`); explicit options win over them.
 * Durations are in milliseconds.
 */
import { checkOptions, describeValue } from './arguments.js'
import { buildNativeStore } from './build-native-store.js'
import { ConfigError } from './errors.js'
import native from './native.js'
import type { NativeCredential } from '../native/index.js'
import { Store } from './store.js'

/** HTTP client options shared by every cloud store. Durations in milliseconds. */
export interface ClientOptions {
  /**
   * Whole-request timeout, response body included. Off by default so that a long
   * download is not cut off; `connectTimeout` and `readTimeout` apply instead.
   */
  timeout?: number
  /** Timeout for establishing a connection (default 5000). */
  connectTimeout?: number
  /** Timeout for each read of a response, reset after every read (default 30000). */
  readTimeout?: number
  /** How long an idle pooled connection is kept. */
  poolIdleTimeout?: number
  /** Most idle connections kept per host. */
  poolMaxIdlePerHost?: number
  /** Allow plain `http://` endpoints (emulators, private networks). */
  allowHttp?: boolean
  /** Accept any TLS certificate. For testing only. */
  allowInvalidCertificates?: boolean
  /** A proxy for every request, e.g. `http://proxy.internal:3128`. */
  proxyUrl?: string
  /** PEM certificate of the proxy's certificate authority. */
  proxyCaCertificate?: string
  /** Comma-separated hosts that bypass the proxy. */
  proxyExcludes?: string
  /** The `User-Agent` header. */
  userAgent?: string
  /** Only use HTTP/1. */
  http1Only?: boolean
  /** Only use HTTP/2. */
  http2Only?: boolean
  /** Extra headers sent with every request. */
  defaultHeaders?: Record<string, string>
}

/**
 * Retries of failed requests, with exponential backoff. Durations in milliseconds. A list
 * page whose body is cut off or stalls is asked for again under the same limits (a listing
 * resumes after the last key it yielded); `maxRetries: 0` retries nothing.
 */
export interface RetryOptions {
  /** Most retries of one request, or of one list page (default 10). */
  maxRetries?: number
  /** Stop retrying after this long (default 180000). */
  retryTimeout?: number
  /** Delays between retries. */
  backoff?: {
    /** The first delay (default 100). */
    initialDelay?: number
    /** The longest delay (default 15000). */
    maxDelay?: number
    /** Growth factor between delays (default 2). */
    base?: number
  }
}

/** When a credential expires: a `Date`, or milliseconds since the epoch. */
export type Expiry = Date | number

/** What an S3 credential provider resolves to. */
export interface S3Credential {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
  /** The provider is called again only when less than 5 minutes remain. */
  expiresAt?: Expiry
}

/** What a GCS credential provider resolves to: an OAuth bearer token. */
export interface GCSCredential {
  token: string
  /** The provider is called again only when less than 5 minutes remain. */
  expiresAt?: Expiry
}

/** What an Azure credential provider resolves to: one of a key, a SAS or a bearer token. */
export type AzureCredential =
  | { accessKey: string; expiresAt?: Expiry }
  | { sasToken: string; expiresAt?: Expiry }
  | { token: string; expiresAt?: Expiry }

/** A function returning fresh credentials; cached until they near expiry. */
export type CredentialProvider<C> = () => C | Promise<C>

/** Options shared by the bucket stores. */
interface CommonCloudOptions {
  /** A key prefix applied to every path (and signed URL), stripped from listed keys. */
  prefix?: string
  /** HTTP client options. */
  client?: ClientOptions
  /** Retry options. */
  retry?: RetryOptions
  /** Further `object_store` configuration keys, by their `object_store` names. */
  config?: Record<string, string>
}

/** Options of `S3Store`. Unset options fall back to `AWS_*` environment variables. */
export interface S3Options extends CommonCloudOptions {
  /** The bucket (or `AWS_BUCKET`). */
  bucket?: string
  /** The region (or `AWS_REGION`/`AWS_DEFAULT_REGION`; default `us-east-1`). */
  region?: string
  /** A custom endpoint for S3-compatible servers, e.g. `http://127.0.0.1:9000`. */
  endpoint?: string
  /** The access key id (or `AWS_ACCESS_KEY_ID`). */
  accessKeyId?: string
  /** The secret access key (or `AWS_SECRET_ACCESS_KEY`). */
  secretAccessKey?: string
  /** A session token for temporary credentials (or `AWS_SESSION_TOKEN`). */
  sessionToken?: string
  /** Credentials fetched on demand; wins over keys and the environment. */
  credentialProvider?: CredentialProvider<S3Credential>
  /** Allow a plain `http://` endpoint. */
  allowHttp?: boolean
  /** `https://bucket.host/key` instead of `https://host/bucket/key`. */
  virtualHostedStyle?: boolean
  /** Send unsigned requests, for public buckets. */
  skipSignature?: boolean
  /**
   * Leave request bodies out of the signature (`UNSIGNED-PAYLOAD`). Default: `true` over
   * HTTPS, where TLS already protects the body (as AWS's own SDKs do), `false` over plain
   * HTTP, where the SHA-256 in the signature is the body's only protection.
   */
  unsignedPayload?: boolean
  /**
   * How `mode: 'create'` and etag updates are done: `'etag'` (default; `If-None-Match`
   * / `If-Match` headers, as AWS S3 supports) or `'disabled'` (they give `NOT_SUPPORTED`).
   */
  conditionalPut?: 'etag' | 'disabled'
  /**
   * How `copy`/`rename` with `overwrite: false` are done, in `object_store`'s syntax:
   * `'multipart'`, `'header:<name>:<value>'` or `'header-with-status:<name>:<value>:<status>'`.
   * Default `'multipart'` (a one-part multipart copy completed with `If-None-Match: *`, as AWS S3
   * supports; objects above 5 GiB cannot be copied this way).
   */
  copyIfNotExists?: string
}

/** Options of `GCSStore`. Unset options fall back to `GOOGLE_*` environment variables. */
export interface GCSOptions extends CommonCloudOptions {
  /** The bucket (or `GOOGLE_BUCKET`). */
  bucket?: string
  /** Path of a service-account JSON file (or `GOOGLE_SERVICE_ACCOUNT`). */
  serviceAccountPath?: string
  /** A service-account JSON document (or `GOOGLE_SERVICE_ACCOUNT_KEY`). */
  serviceAccountKey?: string
  /** Path of an Application Default Credentials file (or `GOOGLE_APPLICATION_CREDENTIALS`). */
  applicationCredentials?: string
  /** A fixed OAuth bearer token. */
  token?: string
  /** OAuth tokens fetched on demand; wins over the other credentials. */
  credentialProvider?: CredentialProvider<GCSCredential>
  /** The storage API's base URL, for emulators (default `https://storage.googleapis.com`). */
  baseUrl?: string
  /** Send unauthenticated requests, for public buckets. */
  skipSignature?: boolean
}

/** Options of `AzureStore`. Unset options fall back to `AZURE_*` environment variables. */
export interface AzureOptions extends CommonCloudOptions {
  /** The container (or `AZURE_CONTAINER_NAME`). */
  container?: string
  /** The storage account (or `AZURE_STORAGE_ACCOUNT_NAME`). */
  account?: string
  /** The account's shared key (or `AZURE_STORAGE_ACCOUNT_KEY`). */
  accessKey?: string
  /** A shared access signature in query-string form (or `AZURE_STORAGE_SAS_TOKEN`). */
  sasToken?: string
  /** A fixed bearer token (or `AZURE_STORAGE_TOKEN`). */
  token?: string
  /** Credentials fetched on demand; wins over the other credentials. */
  credentialProvider?: CredentialProvider<AzureCredential>
  /**
   * Talk to the Azurite emulator: its well-known account and key unless given, `http`
   * allowed, at `endpoint` or else `AZURITE_BLOB_STORAGE_URL` (default `http://127.0.0.1:10000`).
   */
  useEmulator?: boolean
  /** The account URL, e.g. `http://127.0.0.1:10000/devstoreaccount1` or a private endpoint. */
  endpoint?: string
  /** Allow a plain `http://` endpoint. */
  allowHttp?: boolean
  /** Send unauthenticated requests, for public containers. */
  skipSignature?: boolean
}

/** Options of `HTTPStore`. */
export interface HTTPOptions {
  /** HTTP client options. `allowHttp` is implied by an `http://` URL. */
  client?: ClientOptions
  /** Retry options. */
  retry?: RetryOptions
}


function nativeClient(client: ClientOptions | undefined | null) {
  if (client === undefined || client === null) return undefined
  return { ...checkOptions<ClientOptions>(client, 'client') }
}

function nativeRetry(retry: RetryOptions | undefined | null) {
  if (retry === undefined || retry === null) return undefined
  const { backoff: given, ...rest } = checkOptions<RetryOptions>(retry, 'retry')
  const backoff = given === undefined || given === null ? undefined : checkOptions<NonNullable<RetryOptions['backoff']>>(given, 'retry.backoff')
  return {
    ...rest,
    backoff: backoff && { initBackoff: backoff.initialDelay, maxBackoff: backoff.maxDelay, base: backoff.base },
  }
}

function expiryMillis(expiresAt: Expiry | undefined): number | undefined {
  if (expiresAt === undefined || expiresAt === null) return undefined
  const ms = expiresAt instanceof Date ? expiresAt.getTime() : Number(expiresAt)
  if (!Number.isFinite(ms)) throw new ConfigError('credentialProvider returned an invalid expiresAt')
  return ms
}

/** Wrap a user's provider so Rust always gets a promise of a flat credential. */
function nativeProvider<C extends { expiresAt?: Expiry }>(
  provider: CredentialProvider<C> | undefined,
): (() => Promise<NativeCredential>) | undefined {
  if (provider === undefined) return undefined
  if (typeof provider !== 'function') throw new ConfigError('credentialProvider must be a function')
  return async () => {
    const credential = await provider()
    if (typeof credential !== 'object' || credential === null) {
      throw new ConfigError('credentialProvider must return an object')
    }
    const { expiresAt, ...rest } = credential as C & Record<string, unknown>
    const out: NativeCredential = {}
    for (const key of ['accessKeyId', 'secretAccessKey', 'sessionToken', 'token', 'sasToken', 'accessKey'] as const) {
      const value = rest[key]
      if (value !== undefined && value !== null) out[key] = String(value)
    }
    const ms = expiryMillis(expiresAt)
    if (ms !== undefined) out.expiresAt = ms
    return out
  }
}

/** Amazon S3 and S3-compatible servers (MinIO, R2, Ceph, ...). */
export class S3Store extends Store {
  constructor(options?: S3Options | null) {
    const opts = checkOptions<S3Options>(options, 'S3Store options')
    const { client, retry, credentialProvider, ...rest } = opts
    super(buildNativeStore(opts.bucket ?? 's3', () => native.NativeStore.s3({
      ...rest,
      client: nativeClient(client),
      retry: nativeRetry(retry),
      credentialProvider: nativeProvider(credentialProvider),
    })))
  }
}

/** Google Cloud Storage. */
export class GCSStore extends Store {
  constructor(options?: GCSOptions | null) {
    const opts = checkOptions<GCSOptions>(options, 'GCSStore options')
    const { client, retry, credentialProvider, ...rest } = opts
    super(buildNativeStore(opts.bucket ?? 'gcs', () => native.NativeStore.gcs({
      ...rest,
      client: nativeClient(client),
      retry: nativeRetry(retry),
      credentialProvider: nativeProvider(credentialProvider),
    })))
  }
}

/** Azure Blob Storage (and the Azurite emulator). */
export class AzureStore extends Store {
  constructor(options?: AzureOptions | null) {
    const opts = checkOptions<AzureOptions>(options, 'AzureStore options')
    const { client, retry, credentialProvider, ...rest } = opts
    super(buildNativeStore(opts.container ?? 'azure', () => native.NativeStore.azure({
      ...rest,
      client: nativeClient(client),
      retry: nativeRetry(retry),
      credentialProvider: nativeProvider(credentialProvider),
    })))
  }
}

/**
 * A plain HTTP server: `get`/`head` anywhere; `put`, `delete`, `list`, `copy` and
 * `rename` need a WebDAV server. Keys are resolved against `url`. Cannot sign URLs.
 */
export class HTTPStore extends Store {
  constructor(url: string, options?: HTTPOptions | null) {
    const opts = checkOptions<HTTPOptions>(options, 'HTTPStore options')
    if (typeof url !== 'string') throw new ConfigError(`HTTPStore takes a URL string, got ${describeValue(url)}`)
    super(buildNativeStore(url, () => native.NativeStore.http(url, {
      client: nativeClient(opts.client),
      retry: nativeRetry(opts.retry),
    })))
  }
}
