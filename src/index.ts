/**
 * stowage: native, async object storage for Node.js.
 *
 * One API over S3, Google Cloud Storage, Azure Blob, HTTP/WebDAV, the local
 * filesystem and memory, backed by Rust's `object_store`.
 */
export * from './errors.js'
export type * from './types.js'
export { Store } from './store.js'
export { MemoryStore } from './memory-store.js'
export { LocalStore } from './local-store.js'
export type { LocalStoreOptions } from './local-store.js'
export { fromUrl } from './from-url.js'
export type { FromUrlOptions } from './from-url.js'
export * from './cloud-stores.js'
export { storages, StorageRegistry } from './registry.js'
export type { RegisterOptions } from './registry.js'
export type { StorageFake } from './storage-fake.js'
export { FileObject } from './file-object.js'
export type * from './file-object.js'
export type { DerivativeContent, DerivativeOutput, DerivativeResult } from './derivatives.js'
export { FileValidationError } from './file-validation.js'
export type { FileValidationCode } from './file-validation.js'
export { prepareUpload } from './direct-upload/prepare.js'
export type { PrepareUploadOptions, PreparedUpload } from './direct-upload/prepare.js'
export { confirmUpload } from './direct-upload/confirm.js'
export type { ConfirmUploadOptions } from './direct-upload/confirm.js'
export { sweepUnconfirmed } from './direct-upload/sweep.js'
export type { SweepUnconfirmedOptions, SweepUnconfirmedResult } from './direct-upload/sweep.js'
export { prepareMultipartUpload, signUploadPart, completeMultipartUpload, abortMultipartUpload } from './direct-upload/multipart.js'
export type { PrepareMultipartUploadOptions, PreparedMultipartUpload } from './direct-upload/multipart.js'
export { UPLOAD_SECRET_ENV } from './direct-upload/token.js'
export type { UploadSecretOption } from './direct-upload/token.js'
export { RESERVED_PREFIX, PENDING_PREFIX } from './direct-upload/pending.js'
