/**
 * The upload route of stores that cannot sign (LocalStore, MemoryStore): `prepareUpload` points
 * the browser at the app's route with the token, and the route saves the bytes under the token's
 * key with the token's limits, as a signed URL would on S3. Framework-neutral; the Express and
 * Fastify handlers wrap it.
 */
import { openPending } from '../direct-upload/confirm.js'
import { writePending } from '../direct-upload/pending.js'
import type { UploadSecretOption } from '../direct-upload/token.js'
import { ConfigError, UploadTokenError } from '../errors.js'
import type { FileObject } from '../file-object.js'
import { saveFilePart, type IncomingFilePart } from './stream-save.js'

/** Options of both `directUploadHandler`s. */
export type DirectUploadHandlerOptions = UploadSecretOption

/** What the route answers a stored upload with (status 201). */
export interface DirectUploadReceipt {
  key: string
  size: number
}

/** An upload the route may take: the token checked, its marker found and not yet filled. */
export type OpenedRouteUpload = Awaited<ReturnType<typeof openRouteUpload>>

/** Checks `token` for the route: signed, not expired, prepared for the route, no bytes yet. */
export async function openRouteUpload(token: unknown, options: DirectUploadHandlerOptions) {
  const opened = await openPending(token, options.secret)
  const { payload, marker } = opened
  if (payload.via !== 'route') {
    throw new ConfigError(`the upload of "${payload.key}" goes to a signed URL, not to this route`, { path: payload.key })
  }
  if (marker.received !== undefined) {
    throw new UploadTokenError(`the bytes of "${payload.key}" were already received`, { reason: 'consumed', path: payload.key })
  }
  return opened
}

/**
 * Saves the part under the token's key, with its `maxSize` enforced and its first bytes checked
 * against its type while they arrive, then notes the size and checksum in the marker for
 * `confirmUpload`.
 */
export async function receiveRouteUpload(opened: OpenedRouteUpload, part: IncomingFilePart): Promise<FileObject> {
  const { payload, store, marker } = opened
  const file = await saveFilePart(part, {
    backend: payload.backend,
    key: payload.key,
    contentType: payload.contentType,
    maxSize: payload.maxSize,
    checkContent: true,
  })
  await writePending(store, payload.pendingId, { ...marker, received: { size: file.size!, checksum: file.checksum! } })
  return file
}
