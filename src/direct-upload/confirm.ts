/**
 * `confirmUpload`: the server's check of what a browser sent straight to the store, whatever the
 * store enforced — the size, the stored type and the first bytes — before a row may point at it.
 * A refused object is deleted.
 */
import { checkOptions, checkUploadLimits } from '../arguments.js'
import { SNIFF_BYTES, checkContentType } from '../content-sniff.js'
import { NotFoundError, UploadTokenError } from '../errors.js'
import { FileObject } from '../file-object.js'
import { FileValidationError, checkFileConstraints, fileTooLarge } from '../file-validation.js'
import { storages } from '../registry.js'
import type { ObjectMeta, ObjectStore } from '../types.js'
import { readPending, removePending, type PendingMarker } from './pending.js'
import { verifyUploadToken, type UploadSecretOption, type UploadTokenPayload } from './token.js'

/** Options of {@link confirmUpload}. */
export interface ConfirmUploadOptions extends UploadSecretOption {
  /** Accepted content types (`image/*` wildcards): the declared type and the bytes' format must be in it. */
  allowedContentTypes?: readonly string[]
  /** A size limit tighter than the one prepared (the smaller of the two applies). */
  maxSize?: number
}

/** `type/subtype` in lower case, parameters dropped. */
function essence(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase()
}

/** The token's payload and its pending marker, or the `UploadTokenError` that refuses it. */
export async function openPending(
  token: unknown,
  secret: UploadSecretOption['secret'],
): Promise<{ payload: UploadTokenPayload; store: ObjectStore; marker: PendingMarker }> {
  const payload = verifyUploadToken(token, secret)
  const store = storages.get(payload.backend)
  const marker = await readPending(store, payload.pendingId)
  if (marker === undefined || marker.key !== payload.key) {
    throw new UploadTokenError(`the upload of "${payload.key}" was already confirmed, aborted or swept`, {
      reason: 'consumed',
      path: payload.key,
    })
  }
  return { payload, store, marker }
}

async function validate(
  store: ObjectStore,
  payload: UploadTokenPayload,
  meta: ObjectMeta,
  options: Pick<ConfirmUploadOptions, 'allowedContentTypes' | 'maxSize'>,
): Promise<void> {
  const { filename, contentType } = payload
  const maxSize = options.maxSize === undefined ? payload.maxSize : Math.min(options.maxSize, payload.maxSize)
  if (meta.size > maxSize) throw fileTooLarge(filename, meta.size, maxSize)
  if (payload.size !== undefined && meta.size !== payload.size) {
    throw new FileValidationError('FILE_TOO_LARGE', `"${filename}" is ${meta.size} bytes, but ${payload.size} were prepared`, filename)
  }
  checkFileConstraints({ filename, contentType }, meta.size, { allowedContentTypes: options.allowedContentTypes })
  if (meta.size === 0) {
    await checkContentType(new Uint8Array(0), { contentType, allowedContentTypes: options.allowedContentTypes, filename })
    return
  }
  const head = await store.get(payload.key, { range: { start: 0, end: Math.min(meta.size, SNIFF_BYTES) } })
  // The type the store keeps (LocalStore keeps none): a PUT or POST that sent another one was
  // not what was prepared.
  const stored = head.attributes.contentType
  if (stored !== undefined && essence(stored) !== essence(contentType)) {
    throw new FileValidationError(
      'CONTENT_TYPE_NOT_ALLOWED',
      `"${filename}" was stored as "${stored}", but "${contentType}" was prepared`,
      filename,
    )
  }
  await checkContentType(await head.bytes(), { contentType, allowedContentTypes: options.allowedContentTypes, filename })
}

/**
 * Confirms a direct upload: checks the token (signed with this secret, not expired, not used),
 * HEADs the object, checks its size against `maxSize` and the prepared size, its stored type
 * against the prepared one, and its first bytes (by their magic numbers) against the declared
 * type and `allowedContentTypes`. Returns a saved `FileObject` for the same key, ready for a
 * `@StoredObjectColumn`. A refused object is deleted, with its marker, and a
 * `FileValidationError` thrown (`FILE_TOO_LARGE`, `CONTENT_TYPE_NOT_ALLOWED`, `CONTENT_MISMATCH`).
 * A token is confirmed once: a second `confirmUpload` of it is `INVALID_TOKEN` (`consumed`).
 */
export async function confirmUpload(token: string, options: ConfirmUploadOptions = {}): Promise<FileObject> {
  const limits = checkUploadLimits(checkOptions<ConfirmUploadOptions>(options, 'confirmUpload() options'), 'confirmUpload()')
  const { payload, store, marker } = await openPending(token, options?.secret)
  let meta: ObjectMeta
  try {
    meta = await store.head(payload.key)
  } catch (error) {
    if (error instanceof NotFoundError) {
      throw new NotFoundError(`nothing was uploaded to "${payload.key}" yet`, { path: payload.key, cause: error })
    }
    throw error
  }
  try {
    await validate(store, payload, meta, limits)
  } catch (error) {
    if (error instanceof FileValidationError) {
      await store.delete(payload.key)
      await removePending(store, payload.pendingId)
    }
    throw error
  }
  await removePending(store, payload.pendingId)
  const file = FileObject.fromJSON({
    backend: payload.backend,
    key: payload.key,
    filename: payload.filename,
    contentType: payload.contentType,
    size: meta.size,
    ...(marker.received !== undefined && marker.received.size === meta.size ? { checksum: marker.received.checksum } : {}),
    ...(meta.etag === undefined ? {} : { etag: meta.etag }),
    ...(meta.version === undefined ? {} : { version: meta.version }),
    lastModified: meta.lastModified.toISOString(),
  })
  return file
}
