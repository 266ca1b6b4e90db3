/** The public types of the store API (DESIGN.md). */
import type { Readable, Writable } from 'node:stream'

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

/** Options of `put` and `createWriteStream`. */
export interface PutOptions {
  contentType?: string
  contentDisposition?: string
  contentEncoding?: string
  contentLanguage?: string
  cacheControl?: string
  metadata?: Record<string, string>
  /** `create` fails with `ALREADY_EXISTS` if the object exists; `{ etag, version }` updates only that version. */
  mode?: 'overwrite' | 'create' | { etag?: string; version?: string }
  /** Multipart part size in bytes (default 5 MiB). */
  chunkSize?: number
  /** Parts in flight at once (default 8). */
  concurrency?: number
  signal?: AbortSignal
  onProgress?: (progress: Progress) => void
}

/** What a successful write returns. */
export interface PutResult {
  etag?: string
  version?: string
}

/** A byte range: `[start, end)`, from `start` to the end, or the last `suffix` bytes. */
export type GetRange = { start: number; end?: number } | { suffix: number }

/** Options of `get`. */
export interface GetOptions {
  range?: GetRange
  ifMatch?: string
  ifNoneMatch?: string
  ifModifiedSince?: Date
  ifUnmodifiedSince?: Date
  version?: string
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

/** Options of `signUrl` and `signUrls`. */
export interface SignOptions {
  /** Seconds the URL stays valid (default 3600). */
  expiresIn?: number
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
  put(path: string, data: PutInput, opts?: PutOptions): Promise<PutResult>
  get(path: string, opts?: GetOptions): Promise<GetResult>
  getRange(path: string, start: number, end: number): Promise<Buffer>
  getRanges(path: string, ranges: Array<[number, number]>): Promise<Buffer[]>
  head(path: string): Promise<ObjectMeta>
  list(prefix?: string, opts?: { offset?: string }): AsyncIterable<ObjectMeta>
  listWithDelimiter(prefix?: string): Promise<ListResult>
  delete(paths: string | string[]): Promise<void>
  copy(from: string, to: string, opts?: { overwrite?: boolean }): Promise<void>
  rename(from: string, to: string, opts?: { overwrite?: boolean }): Promise<void>
  signUrl(method: SignMethod, path: string, opts?: SignOptions): Promise<string>
  signUrls(method: SignMethod, paths: string[], opts?: SignOptions): Promise<string[]>
  createReadStream(path: string, opts?: ReadStreamOptions): Readable
  createWriteStream(path: string, opts?: PutOptions): Writable
}
