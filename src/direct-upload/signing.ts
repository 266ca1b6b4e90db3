/**
 * The store methods direct uploads sign with, and which of them a store offers. S3 has them
 * all (`signPost`, presigned multipart); GCS and Azure sign a PUT; the others sign nothing.
 */
import { AzureStore, GCSStore } from '../cloud-stores.js'
import { NotSupportedError } from '../errors.js'
import type { ObjectStore, PutResult } from '../types.js'

/** The signing half of a store, as direct uploads use it. */
export interface UploadSigningStore extends ObjectStore {
  signUrl(
    method: 'GET' | 'PUT' | 'HEAD' | 'DELETE',
    path: string,
    opts?: { expiresIn?: number; contentType?: string; contentLength?: number },
  ): Promise<string>
  signPost(
    path: string,
    opts: { expiresIn?: number; contentType?: string; minSize?: number; maxSize: number },
  ): Promise<{ url: string; fields: Record<string, string> }>
  createMultipartUpload(path: string, opts?: { contentType?: string }): Promise<string>
  signUploadParts(path: string, uploadId: string, partNumbers: number[], opts?: { expiresIn?: number }): Promise<string[]>
  completeMultipartUpload(path: string, uploadId: string, parts: Array<{ partNumber: number; etag: string }>): Promise<PutResult>
  abortMultipartUpload(path: string, uploadId: string): Promise<void>
}

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
  const caps = store.capabilities as unknown as Record<string, boolean | undefined>
  const has = (name: keyof UploadSigningStore) => typeof (store as unknown as Record<string, unknown>)[name] === 'function'
  return {
    post: caps.signPost === true && has('signPost'),
    put: caps.sign === true,
    multipart: caps.presignedMultipart === true && has('createMultipartUpload'),
  }
}

/** `store` as a signer, or `NOT_SUPPORTED` naming what it lacks. */
export function signer(store: ObjectStore, what: keyof UploadWays, backend: string): UploadSigningStore {
  if (!uploadWays(store)[what]) {
    const names = { post: 'presigned POST', put: 'presigned PUT', multipart: 'presigned multipart uploads' }
    throw new NotSupportedError(`the store registered as "${backend}" cannot sign ${names[what]}`)
  }
  return store as UploadSigningStore
}

/**
 * How a presigned PUT binds the upload on `store`: what is signed, and the headers the browser
 * must then send. S3 signs the type and the exact length; GCS signs the type and, for a length,
 * `x-goog-content-length-range: N,N` (a header the browser sends); an Azure SAS cannot bind
 * request headers, so nothing is signed but the blob and `confirmUpload` checks what arrived.
 */
export function putBinding(
  store: ObjectStore,
  contentType: string,
  size: number | undefined,
): { sign: { contentType?: string; contentLength?: number }; headers: Record<string, string> } {
  const headers: Record<string, string> = { 'Content-Type': contentType }
  if (store instanceof AzureStore) {
    // Azure creates a blob from a PUT only when told which kind.
    headers['x-ms-blob-type'] = 'BlockBlob'
    return { sign: {}, headers }
  }
  if (store instanceof GCSStore && size !== undefined) headers['x-goog-content-length-range'] = `${size},${size}`
  return { sign: { contentType, ...(size === undefined ? {} : { contentLength: size }) }, headers }
}
