/**
 * The errors every stowage operation throws. Each carries a stable `code`
 * (docs/errors.md's table) and, where one applies, the `path` it concerns.
 */
import { printable } from './printable.js'

/** The stable error codes. */
export type StorageErrorCode =
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'PRECONDITION_FAILED'
  | 'NOT_MODIFIED'
  | 'PERMISSION_DENIED'
  | 'UNAUTHENTICATED'
  | 'INVALID_PATH'
  | 'NOT_SUPPORTED'
  | 'INVALID_CONFIG'
  | 'ABORTED'
  | 'INVALID_TOKEN'
  | 'DERIVATIVE_FAILED'
  | 'GENERIC'

/** Options shared by every `StorageError` constructor. */
export interface StorageErrorOptions {
  path?: string
  cause?: unknown
}

/** Any failure of a storage operation. */
export class StorageError extends Error {
  /** A stable, machine-readable code. */
  readonly code: StorageErrorCode
  /** The key the failure concerns, when there is one. */
  readonly path?: string

  constructor(message: string, code: StorageErrorCode = 'GENERIC', options: StorageErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    if (options.path !== undefined) this.path = options.path
  }
}

/** The object does not exist. */
export class NotFoundError extends StorageError {
  constructor(message: string, options?: StorageErrorOptions) { super(message, 'NOT_FOUND', options) }
}
/** `mode: 'create'` or `overwrite: false`, and the object exists. */
export class AlreadyExistsError extends StorageError {
  constructor(message: string, options?: StorageErrorOptions) { super(message, 'ALREADY_EXISTS', options) }
}
/** An `ifMatch`, `ifUnmodifiedSince` or etag condition failed. */
export class PreconditionError extends StorageError {
  constructor(message: string, options?: StorageErrorOptions) { super(message, 'PRECONDITION_FAILED', options) }
}
/** An `ifNoneMatch` or `ifModifiedSince` condition matched. */
export class NotModifiedError extends StorageError {
  constructor(message: string, options?: StorageErrorOptions) { super(message, 'NOT_MODIFIED', options) }
}
/** The server refused the credentials' rights. */
export class PermissionDeniedError extends StorageError {
  constructor(message: string, options?: StorageErrorOptions) { super(message, 'PERMISSION_DENIED', options) }
}
/** Bad or missing credentials. */
export class UnauthenticatedError extends StorageError {
  constructor(message: string, options?: StorageErrorOptions) { super(message, 'UNAUTHENTICATED', options) }
}
/** A path that cannot be a key. */
export class InvalidPathError extends StorageError {
  constructor(message: string, options?: StorageErrorOptions) { super(message, 'INVALID_PATH', options) }
}
/** The backend cannot do this. */
export class NotSupportedError extends StorageError {
  constructor(message: string, options?: StorageErrorOptions) { super(message, 'NOT_SUPPORTED', options) }
}
/** A bad URL, option or option value. */
export class ConfigError extends StorageError {
  constructor(message: string, options?: StorageErrorOptions) { super(message, 'INVALID_CONFIG', options) }
}
/** An `AbortSignal` fired. */
export class AbortError extends StorageError {
  constructor(message = 'The operation was aborted', options?: StorageErrorOptions) {
    super(message, 'ABORTED', options)
  }
}

/** Why an upload token was refused (see {@link UploadTokenError}). */
export type UploadTokenRefusal = 'malformed' | 'signature' | 'expired' | 'consumed'

/**
 * A direct-upload token (`prepareUpload`) that cannot be used: not a token (`malformed`), not
 * signed with this server's secret or altered (`signature`), past its `expiresAt` (`expired`), or
 * already confirmed, aborted or swept (`consumed`). The message never shows the secret.
 */
export class UploadTokenError extends StorageError {
  /** Which of the four refusals this is. */
  readonly reason: UploadTokenRefusal

  constructor(message: string, options: StorageErrorOptions & { reason?: UploadTokenRefusal } = {}) {
    super(message, 'INVALID_TOKEN', options)
    this.reason = options.reason ?? 'malformed'
  }
}

/**
 * A derivative of a file (a `@StoredObjectColumn`'s `derivatives`, or `FileObject.save({ derivatives })`)
 * could not be made: its function threw or rejected, returned something that is not content, or
 * the stream it returned failed while it was uploaded. The save fails and leaves nothing behind;
 * `derivative` names the derivative, `path` the original's key, `cause` what the function threw.
 */
export class DerivativeError extends StorageError {
  /** The name of the derivative that failed (`thumb`, ...). */
  readonly derivative: string

  constructor(message: string, options: StorageErrorOptions & { derivative?: string } = {}) {
    super(message, 'DERIVATIVE_FAILED', options)
    this.derivative = options.derivative ?? ''
  }
}

const classByCode: Record<Exclude<StorageErrorCode, 'GENERIC'>, new (message: string, options?: StorageErrorOptions) => StorageError> = {
  NOT_FOUND: NotFoundError,
  ALREADY_EXISTS: AlreadyExistsError,
  PRECONDITION_FAILED: PreconditionError,
  NOT_MODIFIED: NotModifiedError,
  PERMISSION_DENIED: PermissionDeniedError,
  UNAUTHENTICATED: UnauthenticatedError,
  INVALID_PATH: InvalidPathError,
  NOT_SUPPORTED: NotSupportedError,
  INVALID_CONFIG: ConfigError,
  ABORTED: AbortError,
  INVALID_TOKEN: UploadTokenError,
  DERIVATIVE_FAILED: DerivativeError,
}

/** Build the `StorageError` subclass for `code`. */
export function storageError(code: StorageErrorCode, message: string, options?: StorageErrorOptions): StorageError {
  if (code === 'GENERIC') return new StorageError(message, 'GENERIC', options)
  return new classByCode[code](message, options)
}

/**
 * napi-rs' own statuses for a JavaScript value it could not convert to the Rust type a
 * function takes (a number where a string belongs, a string where an array does...).
 */
const conversionStatuses = new Set([
  'InvalidArg', 'ObjectExpected', 'StringExpected', 'NameExpected', 'FunctionExpected', 'NumberExpected',
  'BooleanExpected', 'ArrayExpected', 'BigintExpected', 'DateExpected', 'ArrayBufferExpected', 'DetachableArraybufferExpected',
])

/**
 * Turn anything thrown by the native module into a `StorageError`. A native failure is an
 * `Error` whose `code` is one of the stable codes; a value napi-rs could not convert is
 * `INVALID_CONFIG`; anything else is `GENERIC`. Never throws, whatever `err` and `path` are.
 */
export function fromNative(err: unknown, path?: unknown): StorageError {
  if (err instanceof StorageError) return err
  const message = err instanceof Error ? err.message : printable(err)
  const native = err instanceof Error ? (err as { code?: unknown }).code : undefined
  let code: StorageErrorCode = 'GENERIC'
  if (typeof native === 'string' && (Object.hasOwn(classByCode, native) || native === 'GENERIC')) code = native as StorageErrorCode
  else if (typeof native === 'string' && conversionStatuses.has(native)) code = 'INVALID_CONFIG'
  const cause = new Error(message)
  const pathText = path === undefined ? undefined : printable(path)
  return storageError(code, pathText === undefined ? message : `${message} (path: ${pathText})`, { path: pathText, cause })
}
