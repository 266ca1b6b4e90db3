/**
 * Which ways of taking a browser's bytes a store offers, read from its capabilities: S3 has them
 * all (a presigned POST, presigned multipart), GCS and Azure sign a PUT, the others sign nothing.
 * The signing itself is the store's own (`signUrl`, `signPost`, the multipart methods of
 * `ObjectStore`).
 */
import { AzureStore, GCSStore } from '../cloud-stores.js'
import { NotSupportedError } from '../errors.js'
import type { ObjectStore, SignOptions } from '../types.js'

/** How a store can take a browser's bytes. */
export interface UploadWays {
  /** A presigned POST form with a size range (S3). */
  post: boolean
  /** A presigned PUT (S3, GCS, Azure). */
  put: boolean
  /** Presigned multipart: create, sign parts, complete, abort (S3). */
  multipart: boolean
}

/** What `store` can sign for a browser, from its capabilities. */
export function uploadWays(store: ObjectStore): UploadWays {
  const { sign, signPost, presignedMultipart } = store.capabilities
  return { post: signPost, put: sign, multipart: presignedMultipart }
}

/** Throws `NOT_SUPPORTED`, naming what it lacks, unless `store` can sign `what`. */
export function requireUploadWay(store: ObjectStore, what: keyof UploadWays, backend: string): void {
  if (uploadWays(store)[what]) return
  const names = { post: 'presigned POST', put: 'presigned PUT', multipart: 'presigned multipart uploads' }
  throw new NotSupportedError(`the store registered as "${backend}" cannot sign ${names[what]}`)
}

/**
 * How a presigned PUT binds the upload on `store`: what is signed, and the headers the browser
 * must then send. S3 signs the type and, with `size`, the exact length (a presigned S3 PUT cannot
 * take a range: without `size` S3 gets a POST instead). GCS signs the type and the size range,
 * `x-goog-content-length-range: N,N` for `size` or `0,maxSize` without (a header the browser
 * sends, and GCS refuses a body outside it by). An Azure SAS cannot bind request headers, so
 * nothing is signed but the blob, and `confirmUpload` checks what arrived.
 */
export function putBinding(
  store: ObjectStore,
  { contentType, size, maxSize }: { contentType: string; size: number | undefined; maxSize: number },
): { sign: Pick<SignOptions, 'contentType' | 'contentLength' | 'maxContentLength'>; headers: Record<string, string> } {
  const headers: Record<string, string> = { 'Content-Type': contentType }
  if (store instanceof AzureStore) {
    // Azure creates a blob from a PUT only when told which kind.
    headers['x-ms-blob-type'] = 'BlockBlob'
    return { sign: {}, headers }
  }
  if (store instanceof GCSStore) {
    headers['x-goog-content-length-range'] = size === undefined ? `0,${maxSize}` : `${size},${size}`
    return { sign: { contentType, ...(size === undefined ? { maxContentLength: maxSize } : { contentLength: size }) }, headers }
  }
  return { sign: { contentType, ...(size === undefined ? {} : { contentLength: size }) }, headers }
}
