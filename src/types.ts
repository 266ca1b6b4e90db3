/** The public types of the store API (docs/api.md). */
import type { Readable, Writable } from 'node:stream'
import type {
  Capabilities, CreateMultipartUploadOptions, NativeGetOptions, NativePutOptions, SignedPostForm, SignOptions,
  SignPostOptions, SignUploadPartsOptions, UpdateVersion, UploadedPart,
} from '../native/index.js'

/** What a store supports (`store.capabilities`), as the Rust side decides it. */
export type { Capabilities, UpdateVersion }
/** Options and results of presigning, declared in Rust (their documentation comes from there). */
export type { CreateMultipartUploadOptions, SignedPostForm, SignOptions, SignPostOptions, SignUploadPartsOptions, UploadedPart }

/** Anything `put` can upload. Streams are uploaded as they arrive, in parts. */
export type PutInput =
  | Uint8Array
  | ArrayBuffer
  | string
  | Readable
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>

/** Upload progress, reported as the server confirms bytes. */
export interface Progress {
  loaded: number
  total?: number
}

/**
 * Options of `put` and `createWriteStream`: what `NativePutOptions` declares (its fields and
 * their documentation come from Rust), and the two that only JavaScript can hold.
 */
export interface PutOptions extends NativePutOptions {
  /** Aborts the upload: nothing is stored, no parts are left behind. */
  signal?: AbortSignal
  /** Called as the server confirms bytes. */
  onProgress?: (progress: Progress) => void
}

/** What a successful write returns. */
export interface PutResult {
  etag?: string
  version?: string
}

/** A byte range: `[start, end)`, from `start` to the end, or the last `suffix` bytes. */
export type GetRange = NonNullable<NativeGetOptions['range']>

/** Options of `get`: what `NativeGetOptions` declares (from Rust), and an abort signal. */
export interface GetOptions extends NativeGetOptions {
  /** Aborts the call, and a body read from its result. */
  signal?: AbortSignal
}

/** Metadata of one object. */
export interface ObjectMeta {
  path: string
  size: number
  lastModified: Date
  etag?: string
  version?: string
}

/** HTTP attributes and user metadata kept with an object. */
export interface Attributes {
  contentType?: string
  contentDisposition?: string
  contentEncoding?: string
  contentLanguage?: string
  cacheControl?: string
  metadata: Record<string, string>
}

/** The answer to `get`: metadata at once, the body once, on demand. */
export interface GetResult {
  meta: ObjectMeta
  range: { start: number; end: number }
  attributes: Attributes
  bytes(): Promise<Buffer>
  text(): Promise<string>
  /** A web stream, also async-iterable. */
  stream(): ReadableStream<Uint8Array>
}

/** The result of `listWithDelimiter`. */
export interface ListResult {
  objects: ObjectMeta[]
  commonPrefixes: string[]
}

/** HTTP methods a URL can be signed for. */
export type SignMethod = 'GET' | 'PUT' | 'HEAD' | 'DELETE'

/** Options of `list`. */
export interface ListOptions {
  /** List only keys after this one (in the backend's order). */
  offset?: string
  /** Stops the listing: the pending page rejects with `ABORTED` at once. */
  signal?: AbortSignal
}

/** Options of `listWithDelimiter`. */
export interface ListWithDelimiterOptions {
  /** Rejects the call with `ABORTED` at once. */
  signal?: AbortSignal
}

/** Options of `createReadStream`. */
export interface ReadStreamOptions {
  /** First byte, inclusive. */
  start?: number
  /** Last byte, inclusive (as in `fs.createReadStream`). */
  end?: number
  signal?: AbortSignal
}

/** One API over every backend. */
export interface ObjectStore {
  /** What this store supports; anything else fails with `NOT_SUPPORTED` when tried. */
  readonly capabilities: Capabilities
  /** Write `data` to `path`; streams go up in parts as they arrive. */
  put(path: string, data: PutInput, opts?: PutOptions): Promise<PutResult>
  /** Read an object, or part of it, with optional conditions; the body is read on demand. */
  get(path: string, opts?: GetOptions): Promise<GetResult>
  /** The bytes `[start, end)` of an object. */
  getRange(path: string, start: number, end: number): Promise<Buffer>
  /** Several `[start, end)` ranges of one object, fetched with coalesced requests. */
  getRanges(path: string, ranges: Array<[number, number]>): Promise<Buffer[]>
  /** An object's metadata, without its bytes. */
  head(path: string): Promise<ObjectMeta>
  /** Every object under `prefix` (a directory), fed page by page; `offset` lists keys after it. */
  list(prefix?: string, opts?: ListOptions): AsyncIterable<ObjectMeta>
  /** One level under `prefix`: its objects and its sub-directories (without a trailing `/`). */
  listWithDelimiter(prefix?: string, opts?: ListWithDelimiterOptions): Promise<ListResult>
  /** Delete one object or many; deleting a missing object succeeds. */
  delete(paths: string | string[]): Promise<void>
  /** Copy `from` to `to`; with `overwrite: false`, `ALREADY_EXISTS` if `to` exists. */
  copy(from: string, to: string, opts?: { overwrite?: boolean }): Promise<void>
  /** Move `from` to `to`; with `overwrite: false`, `ALREADY_EXISTS` if `to` exists. */
  rename(from: string, to: string, opts?: { overwrite?: boolean }): Promise<void>
  /** A presigned URL for `method` on `path`, valid `expiresIn` seconds (default 3600). */
  signUrl(method: SignMethod, path: string, opts?: SignOptions): Promise<string>
  /** Presigned URLs for many paths in one call. */
  signUrls(method: SignMethod, paths: string[], opts?: SignOptions): Promise<string[]>
  /** A browser form upload straight to the store, its size and type fixed by a signed policy (S3). */
  signPost(path: string, opts: SignPostOptions): Promise<SignedPostForm>
  /** Start a multipart upload whose parts go up through presigned URLs (S3); its upload id. */
  createMultipartUpload(path: string, opts?: CreateMultipartUploadOptions): Promise<string>
  /** Presigned PUT URLs for parts (numbered 1 to 10 000) of a multipart upload. */
  signUploadParts(path: string, uploadId: string, partNumbers: number[], opts?: SignUploadPartsOptions): Promise<string[]>
  /** Complete a multipart upload from its parts' numbers and etags. */
  completeMultipartUpload(path: string, uploadId: string, parts: UploadedPart[]): Promise<PutResult>
  /** Abort a multipart upload: its parts are discarded, no object appears. */
  abortMultipartUpload(path: string, uploadId: string): Promise<void>
  /** A Node `Readable` of the object, from `start` to `end` inclusive (as `fs.createReadStream`). */
  createReadStream(path: string, opts?: ReadStreamOptions): Readable
  /** A `Writable` whose bytes go up as a multipart upload, visible once it finishes. */
  createWriteStream(path: string, opts?: PutOptions): Writable
}
