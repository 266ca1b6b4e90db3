/**
 * Large direct uploads: presigned multipart on S3. The server creates the upload and signs one
 * PUT URL per part as the browser asks; the browser sends the parts and keeps their ETags; the
 * server completes (or aborts) the upload, then confirms it like any direct upload. Everything
 * goes through the token `prepareMultipartUpload` returns, which names the upload id.
 */
import { describeValue } from '../arguments.js'
import { ConfigError } from '../errors.js'
import type { PutResult } from '../types.js'
import { openPending } from './confirm.js'
import { removePending } from './pending.js'
import { startPrepare, withPending, type PrepareUploadOptions } from './prepare.js'
import { requireUploadWay } from './signing.js'
import { signUploadToken, type UploadSecretOption } from './token.js'

/** S3's smallest part (every part but the last); it bounds how many parts `maxSize` allows. */
export const MIN_PART_SIZE = 5 * 1024 * 1024
/** S3's most parts in one upload. */
const MAX_PARTS = 10_000

/** Options of {@link prepareMultipartUpload}: those of `prepareUpload` but `uploadRoute`. */
export type PrepareMultipartUploadOptions = Omit<PrepareUploadOptions, 'uploadRoute'>

/** What {@link prepareMultipartUpload} returns. */
export interface PreparedMultipartUpload {
  /** Signed, opaque: give it to `signUploadPart`, `completeMultipartUpload` and `confirmUpload`. */
  token: string
  /** The object's key. */
  key: string
  /** The most parts this upload may have: `maxSize` split in parts of at least 5 MiB. */
  maxParts: number
  /** Every part but the last must be at least this large (S3's rule). */
  minPartSize: number
  /** When the token (and every part URL) expires. */
  expiresAt: Date
}

function maxPartsFor(maxSize: number): number {
  return Math.min(MAX_PARTS, Math.max(1, Math.floor(Math.max(maxSize - 1, 0) / MIN_PART_SIZE) + 1))
}

/**
 * Starts a presigned multipart upload (S3 only; elsewhere `NOT_SUPPORTED`). S3 does not limit
 * a multipart upload's total size: the part count is limited here, and `confirmUpload` deletes
 * an object over `maxSize`. An upload never completed is aborted by `sweepUnconfirmed`.
 */
export async function prepareMultipartUpload(options: PrepareMultipartUploadOptions): Promise<PreparedMultipartUpload> {
  const checked = await startPrepare(options, 'prepareMultipartUpload()')
  const { store, payload } = checked
  requireUploadWay(store, 'multipart', payload.backend)
  return withPending(
    checked,
    () => store.createMultipartUpload(payload.key, { contentType: payload.contentType }),
    async (uploadId) => ({
      token: signUploadToken({ ...payload, uploadId, via: 'multipart' }, options.secret),
      key: payload.key,
      maxParts: maxPartsFor(payload.maxSize),
      minPartSize: MIN_PART_SIZE,
      expiresAt: new Date(payload.expiresAt),
    }),
  )
}

async function openMultipart(token: string, secret: UploadSecretOption['secret']) {
  const opened = await openPending(token, secret)
  const { payload, store } = opened
  if (payload.via !== 'multipart' || payload.uploadId === undefined) {
    throw new ConfigError(`the upload of "${payload.key}" is not a multipart upload (prepare it with prepareMultipartUpload)`)
  }
  requireUploadWay(store, 'multipart', payload.backend)
  return { ...opened, uploadId: payload.uploadId }
}

/**
 * A presigned PUT URL for part `partNumber` (1 to the prepared `maxParts`), valid until the
 * token expires. The browser PUTs the part's bytes to it and keeps the answer's `ETag`.
 */
export async function signUploadPart(token: string, partNumber: number, options: UploadSecretOption = {}): Promise<string> {
  const { payload, uploadId, store } = await openMultipart(token, options.secret)
  const maxParts = maxPartsFor(payload.maxSize)
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > maxParts) {
    throw new ConfigError(`partNumber must be a whole number from 1 to ${maxParts} (maxSize ${payload.maxSize}), got ${describeValue(partNumber)}`)
  }
  const expiresIn = Math.max(1, Math.floor((payload.expiresAt - Date.now()) / 1000))
  const [url] = await store.signUploadParts(payload.key, uploadId, [partNumber], { expiresIn })
  return url!
}

/**
 * Completes the upload from its parts' numbers and ETags; the object appears whole. Call
 * `confirmUpload(token)` next, before a row points at it.
 */
export async function completeMultipartUpload(
  token: string,
  parts: Array<{ partNumber: number; etag: string }>,
  options: UploadSecretOption = {},
): Promise<PutResult> {
  const { payload, uploadId, store } = await openMultipart(token, options.secret)
  const maxParts = maxPartsFor(payload.maxSize)
  if (!Array.isArray(parts) || parts.length > maxParts) {
    throw new ConfigError(`completeMultipartUpload() takes at most ${maxParts} parts, got ${describeValue(parts)}`)
  }
  return store.completeMultipartUpload(payload.key, uploadId, parts)
}

/** Aborts the upload (its parts are discarded) and forgets it: the token is used up. */
export async function abortMultipartUpload(token: string, options: UploadSecretOption = {}): Promise<void> {
  const { payload, uploadId, store } = await openMultipart(token, options.secret)
  await store.abortMultipartUpload(payload.key, uploadId)
  await removePending(store, payload.pendingId)
}
