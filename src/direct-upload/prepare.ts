/**
 * `prepareUpload`: what a browser needs to send a file straight to the store — a presigned POST
 * (S3), a presigned PUT (S3 with a known size, GCS, Azure) or, for a store that cannot sign, the
 * app's own upload route — and the signed token that `confirmUpload` takes back.
 */
import { checkByteCount, checkKey, describeValue } from '../arguments.js'
import { ConfigError } from '../errors.js'
import { defaultKey } from '../file-object.js'
import { fileTooLarge } from '../file-validation.js'
import { storages } from '../registry.js'
import type { ObjectStore } from '../types.js'
import { newPendingId, removePending, writePending } from './pending.js'
import { putBinding, uploadWays } from './signing.js'
import { signUploadToken, signingKey, type UploadSecretOption, type UploadTokenPayload } from './token.js'

/** Options of {@link prepareUpload}. */
export interface PrepareUploadOptions extends UploadSecretOption {
  /** The registered store's name (`storages.register`). */
  backend: string
  /** The original filename; the key is made from it unless `key` is given. */
  filename: string
  /** The type the browser declares; the upload must send it and `confirmUpload` checks the bytes against it. */
  contentType: string
  /** Largest accepted size in bytes. */
  maxSize: number
  /** The exact size, when the browser knows it: S3 then signs a PUT for exactly this length (GCS: the range `size,size`). */
  size?: number
  /** Seconds the upload may start in (and the token lives), default 3600. */
  expiresIn?: number
  /**
   * The app's route that takes the bytes for a store that cannot sign (LocalStore, MemoryStore),
   * served by `directUploadHandler` of `stowage/multer` or `stowage/fastify`; the URL is this
   * route with a `token` query parameter. Required for such stores, ignored by the others.
   */
  uploadRoute?: string
  /** The object's key; defaults to `<keyPrefix>/<uuid>/<sanitized filename>`. */
  key?: string
  /** A prefix for the default key. */
  keyPrefix?: string
}

/** What {@link prepareUpload} returns: how to send the bytes, and the token to confirm with. */
export interface PreparedUpload {
  /** Signed, opaque: give it back to `confirmUpload` (and keep it out of logs). */
  token: string
  /** Where to send the bytes. */
  url: string
  /**
   * `POST`: a `multipart/form-data` body with every entry of `fields`, then the file last, in a
   * field named `file`. `PUT`: the file as the body, with `headers`.
   */
  method: 'POST' | 'PUT'
  /** Form fields to send before the file (`POST`). */
  fields?: Record<string, string>
  /** Headers to send (`PUT`). */
  headers?: Record<string, string>
  /** The object's key. */
  key: string
  /** When the URL and the token expire. */
  expiresAt: Date
}

const DEFAULT_EXPIRES_IN = 3600
/** The longest validity S3 signs (7 days); no token outlives it either. */
const MAX_EXPIRES_IN = 604_800

function checkExpiresIn(value: unknown): number {
  if (value === undefined) return DEFAULT_EXPIRES_IN
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_EXPIRES_IN) {
    throw new ConfigError(`expiresIn must be a whole number of seconds from 1 to ${MAX_EXPIRES_IN}, got ${describeValue(value)}`)
  }
  return value
}

function checkString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new ConfigError(`${name} must be a non-empty string, got ${describeValue(value)}`)
  return value
}

/** The checked common options of `prepareUpload` and `prepareMultipartUpload`. */
export interface CheckedPrepare {
  store: ObjectStore
  payload: Omit<UploadTokenPayload, 'via' | 'uploadId'>
  expiresIn: number
}

/** Checks the options, names the key and writes the pending marker. */
export async function startPrepare(options: PrepareUploadOptions, what: string): Promise<CheckedPrepare> {
  if (options === null || typeof options !== 'object') throw new ConfigError(`${what} takes an options object, got ${describeValue(options)}`)
  const backend = checkString(options.backend, 'backend')
  const filename = checkString(options.filename, 'filename')
  const contentType = checkString(options.contentType, 'contentType')
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(contentType)) throw new ConfigError('contentType must not contain control characters')
  const maxSize = checkByteCount(options.maxSize, 'maxSize')!
  const size = checkByteCount(options.size, 'size', { optional: true })
  const expiresIn = checkExpiresIn(options.expiresIn)
  if (size !== undefined && size > maxSize) throw fileTooLarge(filename, size, maxSize)
  signingKey(options.secret) // a missing or short secret is refused before anything is written
  const store = storages.get(backend)
  const key = options.key === undefined ? defaultKey(filename, options.keyPrefix) : checkKey(options.key)
  const pendingId = newPendingId()
  const now = Date.now()
  const expiresAt = now + expiresIn * 1000
  const payload = { backend, key, filename, contentType, maxSize, ...(size === undefined ? {} : { size }), expiresAt, pendingId }
  return { store, payload, expiresIn }
}

/** Writes the marker, runs `sign`, and takes the marker back if signing fails. */
export async function withPending<T>(
  checked: CheckedPrepare,
  uploadId: () => Promise<string | undefined>,
  sign: (uploadId: string | undefined) => Promise<T>,
): Promise<T> {
  const { store, payload } = checked
  const marker = { key: payload.key, created: new Date().toISOString(), expiresAt: new Date(payload.expiresAt).toISOString() }
  await writePending(store, payload.pendingId, marker)
  try {
    const id = await uploadId()
    if (id !== undefined) await writePending(store, payload.pendingId, { ...marker, uploadId: id })
    return await sign(id)
  } catch (error) {
    await removePending(store, payload.pendingId).catch(() => undefined)
    throw error
  }
}

/**
 * The route's URL for `token`: a `token` query parameter, not a path segment, since a token
 * (some 400 characters) is longer than routers take as a path parameter (Fastify: 100).
 */
function routeUrl(uploadRoute: string, token: string): string {
  return `${uploadRoute}${uploadRoute.includes('?') ? '&' : '?'}token=${token}`
}

/**
 * Prepares a direct upload: the browser sends the bytes to `url` (S3: a presigned POST whose
 * policy enforces the size range and the type, or, with `size`, a presigned PUT with type and
 * length signed; GCS: a presigned PUT with the type and the size range (`0,maxSize`, or exactly
 * `size`) signed; Azure: a SAS PUT, which binds neither; LocalStore, MemoryStore:
 * `uploadRoute`), then the
 * app calls `confirmUpload(token)` before a row points at the object. A pending marker is kept
 * under `.stowage/pending/` until then, for `sweepUnconfirmed`.
 */
export async function prepareUpload(options: PrepareUploadOptions): Promise<PreparedUpload> {
  const checked = await startPrepare(options, 'prepareUpload()')
  const { store, payload, expiresIn } = checked
  const ways = uploadWays(store)
  const expiresAt = new Date(payload.expiresAt)
  const { key, contentType, maxSize, size, backend } = payload
  if (ways.post && size === undefined) {
    return withPending(checked, async () => undefined, async () => {
      const token = signUploadToken({ ...payload, via: 'post' }, options.secret)
      const { url, fields } = await store.signPost(key, { expiresIn, contentType, maxSize })
      return { token, url, method: 'POST' as const, fields, key, expiresAt }
    })
  }
  if (ways.put) {
    return withPending(checked, async () => undefined, async () => {
      const token = signUploadToken({ ...payload, via: 'put' }, options.secret)
      const binding = putBinding(store, { contentType, size, maxSize })
      const url = await store.signUrl('PUT', key, { expiresIn, ...binding.sign })
      return { token, url, method: 'PUT' as const, headers: binding.headers, key, expiresAt }
    })
  }
  if (options.uploadRoute === undefined || typeof options.uploadRoute !== 'string' || options.uploadRoute === '') {
    throw new ConfigError(
      `prepareUpload(): the store registered as "${backend}" cannot sign URLs; pass the uploadRoute option (the route served by directUploadHandler of stowage/multer or stowage/fastify)`,
    )
  }
  const uploadRoute = options.uploadRoute
  return withPending(checked, async () => undefined, async () => {
    const token = signUploadToken({ ...payload, via: 'route' }, options.secret)
    return { token, url: routeUrl(uploadRoute, token), method: 'POST' as const, fields: {}, key, expiresAt }
  })
}
