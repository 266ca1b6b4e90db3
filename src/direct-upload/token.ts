/**
 * The direct-upload token: what `prepareUpload` promised (the store, the key, the limits, the
 * expiry), signed with the server's secret so that the browser can carry it back to
 * `confirmUpload` (or to the upload route) without the server keeping any state of its own.
 *
 * Format: `v1.<payload>.<mac>`, both parts base64url; `<mac>` is HMAC-SHA256 over `v1.<payload>`
 * with a key derived from the secret for this one use. The payload is readable JSON (signed, not
 * encrypted): it holds nothing secret.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { ConfigError, UploadTokenError } from '../errors.js'

/** The environment variable the signing secret is read from when no `secret` option is given. */
export const UPLOAD_SECRET_ENV = 'STOWAGE_UPLOAD_SECRET'

/** The shortest secret accepted, in bytes: HMAC-SHA256's security needs a key this long. */
export const MIN_SECRET_BYTES = 32

const VERSION = 'v1'
// Domain separation: a secret shared with another use never yields the same MACs.
const KEY_CONTEXT = 'stowage direct-upload token v1'

/** What a token names: everything `confirmUpload` and the upload route check against. */
export interface UploadTokenPayload {
  /** The registered store's name. */
  backend: string
  /** The object's key. */
  key: string
  /** The original filename. */
  filename: string
  /** The declared content type. */
  contentType: string
  /** Largest accepted size in bytes. */
  maxSize: number
  /** The exact size, when `prepareUpload` was told it. */
  size?: number
  /** Expiry, in milliseconds since the epoch. */
  expiresAt: number
  /** The pending marker's id (see pending.ts). */
  pendingId: string
  /** The S3 multipart upload id, for a presigned multipart upload. */
  uploadId?: string
  /** How the bytes are sent: `route` (the app's upload route), `post`, `put` or `multipart`. */
  via: 'route' | 'post' | 'put' | 'multipart'
}

/** The `secret` option every direct-upload function takes. */
export interface UploadSecretOption {
  /**
   * The key that signs and checks tokens, at least 32 bytes; defaults to the
   * `STOWAGE_UPLOAD_SECRET` environment variable. Every server that confirms a token must use
   * the secret that signed it.
   */
  secret?: string | Uint8Array
}

/** The signing key for `secret` (or the environment's), or a `ConfigError` naming both sources. */
export function signingKey(secret: string | Uint8Array | undefined): Buffer {
  const given = secret ?? process.env[UPLOAD_SECRET_ENV]
  if (given === undefined || given === '') {
    throw new ConfigError(`direct uploads need a signing secret: pass { secret } or set the ${UPLOAD_SECRET_ENV} environment variable`)
  }
  const bytes = typeof given === 'string' ? Buffer.from(given, 'utf8') : Buffer.from(given)
  if (bytes.byteLength < MIN_SECRET_BYTES) {
    // The length only: the value itself never goes into a message.
    throw new ConfigError(
      `the direct-upload secret (the secret option or ${UPLOAD_SECRET_ENV}) is ${bytes.byteLength} bytes; it must be at least ${MIN_SECRET_BYTES}`,
    )
  }
  return createHmac('sha256', bytes).update(KEY_CONTEXT).digest()
}

function mac(key: Buffer, signed: string): Buffer {
  return createHmac('sha256', key).update(signed).digest()
}

/** A signed token for `payload`. */
export function signUploadToken(payload: UploadTokenPayload, secret: string | Uint8Array | undefined): string {
  const key = signingKey(secret)
  const signed = `${VERSION}.${Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url')}`
  return `${signed}.${mac(key, signed).toString('base64url')}`
}

function malformed(): UploadTokenError {
  return new UploadTokenError('not a stowage upload token', { reason: 'malformed' })
}

function isPayload(value: unknown): value is UploadTokenPayload {
  const p = value as Partial<UploadTokenPayload> | null
  return (
    typeof p === 'object' && p !== null &&
    typeof p.backend === 'string' && typeof p.key === 'string' && typeof p.filename === 'string' &&
    typeof p.contentType === 'string' && typeof p.maxSize === 'number' && typeof p.expiresAt === 'number' &&
    typeof p.pendingId === 'string' && ['route', 'post', 'put', 'multipart'].includes(p.via as string) &&
    (p.size === undefined || typeof p.size === 'number') && (p.uploadId === undefined || typeof p.uploadId === 'string')
  )
}

/**
 * The payload of a token this secret signed, checked for expiry; an `UploadTokenError` for
 * anything else (`malformed`, `signature`, `expired`). The MAC is compared in constant time and
 * before the payload is parsed, so nothing a client made up is ever interpreted.
 */
export function verifyUploadToken(token: unknown, secret: string | Uint8Array | undefined, now = Date.now()): UploadTokenPayload {
  const key = signingKey(secret)
  if (typeof token !== 'string' || token.length > 16 * 1024) throw malformed()
  const parts = token.split('.')
  if (parts.length !== 3 || parts[0] !== VERSION || !/^[A-Za-z0-9_-]+$/.test(parts[1]!) || !/^[A-Za-z0-9_-]+$/.test(parts[2]!)) {
    throw malformed()
  }
  const expected = mac(key, `${parts[0]}.${parts[1]}`)
  const given = Buffer.from(parts[2]!, 'base64url')
  if (given.byteLength !== expected.byteLength || !timingSafeEqual(given, expected)) {
    throw new UploadTokenError('the upload token was not signed with this secret, or was altered', { reason: 'signature' })
  }
  let payload: unknown
  try {
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'))
  } catch {
    throw malformed()
  }
  if (!isPayload(payload)) throw malformed()
  if (now >= payload.expiresAt) {
    throw new UploadTokenError(`the upload token for "${payload.key}" expired at ${new Date(payload.expiresAt).toISOString()}`, {
      reason: 'expired',
      path: payload.key,
    })
  }
  return payload
}
