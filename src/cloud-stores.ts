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
import type * as NativeTypes from '../native/index.js'
import type { NativeCredential } from '../native/index.js'
import { Store } from './store.js'

/** HTTP client options shared by every cloud store (declared in Rust). */
export type ClientOptions = NativeTypes.ClientOptions
/** Retries of failed requests, with exponential backoff (declared in Rust). */
export type RetryOptions = NativeTypes.RetryOptions
/** Delays between retries (declared in Rust). */
export type BackoffOptions = NativeTypes.BackoffOptions
/** Options of `HTTPStore` (declared in Rust). */
export type HTTPOptions = NativeTypes.HTTPOptions

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

/**
 * Options of `S3Store`, as Rust declares them (unset options fall back to `AWS_*` environment
 * variables), with a credential provider that may be synchronous and give a `Date`.
 */
export interface S3Options extends Omit<NativeTypes.NativeS3Options, 'credentialProvider'> {
  /** Credentials fetched on demand; wins over keys and the environment. */
  credentialProvider?: CredentialProvider<S3Credential>
}

/** Options of `GCSStore`, as Rust declares them (unset options fall back to `GOOGLE_*`). */
export interface GCSOptions extends Omit<NativeTypes.NativeGcsOptions, 'credentialProvider'> {
  /** OAuth tokens fetched on demand; wins over the other credentials. */
  credentialProvider?: CredentialProvider<GCSCredential>
}

/** Options of `AzureStore`, as Rust declares them (unset options fall back to `AZURE_*`). */
export interface AzureOptions extends Omit<NativeTypes.NativeAzureOptions, 'credentialProvider'> {
  /** Credentials fetched on demand; wins over the other credentials. */
  credentialProvider?: CredentialProvider<AzureCredential>
}

function nativeClient(client: ClientOptions | undefined | null) {
  if (client === undefined || client === null) return undefined
  return { ...checkOptions<ClientOptions>(client, 'client') }
}

/** napi-rs would read a string given for an object as an object without fields. */
function nativeRetry(retry: RetryOptions | undefined | null) {
  if (retry === undefined || retry === null) return undefined
  const checked = checkOptions<RetryOptions>(retry, 'retry')
  if (checked.backoff !== undefined && checked.backoff !== null) checkOptions(checked.backoff, 'retry.backoff')
  return checked
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

/** What every cloud store's options share on the JavaScript side. */
interface CloudOptions<C> {
  client?: ClientOptions | null
  retry?: RetryOptions | null
  credentialProvider?: CredentialProvider<C>
}

/** A cloud store's options as Rust takes them: checked objects, a provider Rust can await. */
function nativeCloudOptions<C extends { expiresAt?: Expiry }, O extends CloudOptions<C>>(options: unknown, what: string) {
  const { client, retry, credentialProvider, ...rest } = checkOptions<O>(options, `${what} options`)
  return {
    ...rest,
    client: nativeClient(client),
    retry: nativeRetry(retry),
    credentialProvider: nativeProvider(credentialProvider),
  }
}

/** Amazon S3 and S3-compatible servers (MinIO, R2, Ceph, ...). */
export class S3Store extends Store {
  constructor(options?: S3Options | null) {
    const opts = nativeCloudOptions<S3Credential, S3Options>(options, 'S3Store')
    super(buildNativeStore(opts.bucket ?? 's3', () => native.NativeStore.s3(opts)))
  }
}

/** Google Cloud Storage. */
export class GCSStore extends Store {
  constructor(options?: GCSOptions | null) {
    const opts = nativeCloudOptions<GCSCredential, GCSOptions>(options, 'GCSStore')
    super(buildNativeStore(opts.bucket ?? 'gcs', () => native.NativeStore.gcs(opts)))
  }
}

/** Azure Blob Storage (and the Azurite emulator). */
export class AzureStore extends Store {
  constructor(options?: AzureOptions | null) {
    const opts = nativeCloudOptions<AzureCredential, AzureOptions>(options, 'AzureStore')
    super(buildNativeStore(opts.container ?? 'azure', () => native.NativeStore.azure(opts)))
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
