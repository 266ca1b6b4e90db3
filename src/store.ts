/**
 * `Store`: the `ObjectStore` API over one native store handle. It converts
 * inputs and outputs and maps errors; the work itself happens in Rust.
 */
import type { Readable, Writable } from 'node:stream'
import { AbortError, ConfigError, StorageError, fromNative } from './errors.js'
import type { NativeGetOptions, NativeObjectMeta, NativePutOptions, NativeStore } from './native.js'
import { UploadFeeder, UploadWritable, asBuffer, bufferedReader, nodeStream, toStorageError, webStream } from './streams.js'
import type { BodyReader } from './streams.js'
import type {
  Attributes, GetOptions, GetResult, ListResult, ObjectMeta, ObjectStore, PutInput, PutOptions, PutResult,
  ReadStreamOptions, SignMethod, SignOptions,
} from './types.js'

const DEFAULT_CHUNK_SIZE = 5 * 1024 * 1024

/** Base class of every store; use `MemoryStore`, `LocalStore`, `S3Store`, ... or `fromUrl`. */
export class Store implements ObjectStore {
  readonly #native: NativeStore

  /** @internal Wrap a native handle; use a concrete store class instead. */
  constructor(native: NativeStore) {
    this.#native = native
  }

  async put(path: string, data: PutInput, opts: PutOptions = {}): Promise<PutResult> {
    const signal = opts.signal
    if (signal?.aborted) throw new AbortError(undefined, { path, cause: signal.reason })
    const native = nativePutOptions(opts)
    if (isBytes(data)) {
      const bytes = asBuffer(data)
      if (!signal && !opts.onProgress) {
        return call(path, async () => cleanResult(await this.#native.put(path, bytes, native)))
      }
      const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE
      return this.#feeder(path, native, opts, bytes.length).pump(slices(bytes, chunkSize), signal, { stable: true })
    }
    if (!isIterable(data)) {
      throw new ConfigError(`put() takes bytes, a string, a Readable, a ReadableStream or an async iterable`, { path })
    }
    return this.#feeder(path, native, opts).pump(data, signal)
  }

  async get(path: string, opts: GetOptions = {}): Promise<GetResult> {
    const { signal } = opts
    if (signal?.aborted) throw new AbortError(undefined, { path, cause: signal.reason })
    const result = await call(path, () => this.#native.get(path, nativeGetOptions(opts)), signal)
    const { start, end } = result
    const attributes: Attributes = { metadata: {} }
    for (const [key, value] of Object.entries(result.attributes ?? {})) {
      if (value !== null && value !== undefined) (attributes as unknown as Record<string, unknown>)[key] = value
    }
    let source: BodyReader | undefined = result.reader ?? bufferedReader(result.body!)
    const takeReader = () => {
      if (!source) throw new StorageError('the body of this GetResult has already been read', 'GENERIC', { path })
      const taken = source
      source = undefined
      return taken
    }
    const bytes = async () => {
      const taken = takeReader()
      return call(path, () => taken.readAll(end - start), signal)
    }
    return {
      meta: toMeta(result.meta),
      range: { start, end },
      attributes,
      bytes,
      text: async () => (await bytes()).toString('utf8'),
      stream: () => {
        const taken = takeReader()
        return webStream(async () => taken, path, signal)
      },
    }
  }

  async getRange(path: string, start: number, end: number): Promise<Buffer> {
    return call(path, () => this.#native.getRange(path, start, end))
  }

  async getRanges(path: string, ranges: Array<[number, number]>): Promise<Buffer[]> {
    return call(path, () => this.#native.getRanges(path, ranges))
  }

  async head(path: string): Promise<ObjectMeta> {
    return call(path, async () => toMeta(await this.#native.head(path)))
  }

  async *list(prefix?: string, opts: { offset?: string } = {}): AsyncIterable<ObjectMeta> {
    const lister = callSync(prefix ?? '', () => this.#native.list(prefix, opts.offset))
    for (;;) {
      const page = await call(prefix ?? '', () => lister.nextPage())
      if (page === null) return
      for (const entry of page) yield toMeta(entry)
    }
  }

  async listWithDelimiter(prefix?: string): Promise<ListResult> {
    return call(prefix ?? '', async () => {
      const result = await this.#native.listWithDelimiter(prefix)
      return { objects: result.objects.map(toMeta), commonPrefixes: result.commonPrefixes }
    })
  }

  async delete(paths: string | string[]): Promise<void> {
    return call(Array.isArray(paths) ? paths.join(', ') : paths, () => this.#native.delete(paths))
  }

  async copy(from: string, to: string, opts: { overwrite?: boolean } = {}): Promise<void> {
    return callPair(from, to, () => this.#native.copy(from, to, opts.overwrite ?? true))
  }

  async rename(from: string, to: string, opts: { overwrite?: boolean } = {}): Promise<void> {
    return callPair(from, to, () => this.#native.rename(from, to, opts.overwrite ?? true))
  }

  async signUrl(method: SignMethod, path: string, opts: SignOptions = {}): Promise<string> {
    const [url] = await this.signUrls(method, [path], opts)
    return url!
  }

  async signUrls(method: SignMethod, paths: string[], opts: SignOptions = {}): Promise<string[]> {
    return call(paths.length === 1 ? paths[0]! : '', () => this.#native.signUrls(method, paths, opts.expiresIn))
  }

  createReadStream(path: string, opts: ReadStreamOptions = {}): Readable {
    const { start, end, signal } = opts
    const range = start === undefined && end === undefined
      ? undefined
      : { start: start ?? 0, ...(end === undefined ? {} : { end: end + 1 }) }
    const open = async () => {
      const result = await this.#native.get(path, nativeGetOptions({ range }))
      return result.reader ?? bufferedReader(result.body!)
    }
    return nodeStream(open, path, signal)
  }

  createWriteStream(path: string, opts: PutOptions = {}): Writable {
    const feeder = callSync(path, () => this.#feeder(path, nativePutOptions(opts), opts))
    return new UploadWritable(feeder, path, opts.signal)
  }

  /** A description without secrets. */
  toString(): string {
    return this.#native.describe()
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString()
  }

  #feeder(path: string, native: NativePutOptions, opts: PutOptions, total?: number): UploadFeeder {
    const upload = callSync(path, () => this.#native.upload(path, native))
    return new UploadFeeder(upload, path, opts.onProgress, total)
  }
}

async function call<T>(path: string, op: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  try {
    if (!signal) return await op()
    return await abortable(op(), signal, path)
  } catch (err) {
    throw toStorageError(err, path, signal)
  }
}

function callSync<T>(path: string, op: () => T): T {
  try {
    return op()
  } catch (err) {
    throw fromNative(err, path)
  }
}

/** Errors about the source name `from`, except `ALREADY_EXISTS`, which is about `to`. */
async function callPair(from: string, to: string, op: () => Promise<void>): Promise<void> {
  try {
    await op()
  } catch (err) {
    const first = fromNative(err)
    throw fromNative(err, first.code === 'ALREADY_EXISTS' ? to : from)
  }
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal, path: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortError(undefined, { path, cause: signal.reason }))
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

function isBytes(data: PutInput): data is Uint8Array | ArrayBuffer | string {
  return typeof data === 'string' || data instanceof ArrayBuffer || ArrayBuffer.isView(data)
}

function isIterable(data: unknown): data is AsyncIterable<Uint8Array> {
  return typeof data === 'object' && data !== null && Symbol.asyncIterator in data
}

function* slices(bytes: Buffer, size: number): Iterable<Buffer> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size)
}

function cleanResult(result: { etag?: string | null; version?: string | null }): PutResult {
  const out: PutResult = {}
  if (result.etag != null) out.etag = result.etag
  if (result.version != null) out.version = result.version
  return out
}

function toMeta(meta: NativeObjectMeta): ObjectMeta {
  const out: ObjectMeta = { path: meta.path, size: meta.size, lastModified: meta.lastModified }
  if (meta.etag != null) out.etag = meta.etag
  if (meta.version != null) out.version = meta.version
  return out
}

function nativePutOptions(opts: PutOptions): NativePutOptions {
  const { mode } = opts
  return {
    attributes: {
      contentType: opts.contentType,
      contentDisposition: opts.contentDisposition,
      contentEncoding: opts.contentEncoding,
      contentLanguage: opts.contentLanguage,
      cacheControl: opts.cacheControl,
      metadata: opts.metadata,
    },
    mode: typeof mode === 'object' ? 'update' : mode,
    etag: typeof mode === 'object' ? mode.etag : undefined,
    version: typeof mode === 'object' ? mode.version : undefined,
    chunkSize: opts.chunkSize,
    concurrency: opts.concurrency,
    contentLength: opts.contentLength,
  }
}

function nativeGetOptions(opts: GetOptions): NativeGetOptions {
  const range = opts.range
  return {
    rangeStart: range && 'start' in range ? range.start : undefined,
    rangeEnd: range && 'start' in range ? range.end : undefined,
    suffix: range && 'suffix' in range ? range.suffix : undefined,
    ifMatch: opts.ifMatch,
    ifNoneMatch: opts.ifNoneMatch,
    ifModifiedSince: opts.ifModifiedSince,
    ifUnmodifiedSince: opts.ifUnmodifiedSince,
    version: opts.version,
  }
}
