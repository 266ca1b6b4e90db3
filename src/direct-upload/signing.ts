/**
 * The store methods direct uploads sign with, and which of them a store offers. S3 has them
 * all (`signPost`, presigned multipart); GCS and Azure sign a PUT; the others sign nothing.
 */
import { AzureStore } from '../cloud-stores.js'
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

/** Headers a browser must send with a presigned PUT to `store`, beyond those signed. */
export function putHeaders(store: ObjectStore, contentType: string): Record<string, string> {
  const headers: Record<string, string> = { 'Content-Type': contentType }
  // Azure creates a blob from a PUT only when told which kind.
  if (store instanceof AzureStore) headers['x-ms-blob-type'] = 'BlockBlob'
  return headers
}
