/**
 * `Store`: the `ObjectStore` API over one native store handle. It converts
 * inputs and outputs and maps errors; the work itself happens in Rust.
 */
import type { Readable, Writable } from 'node:stream'
import { abortError, raceAbort } from './abort.js'
import { checkKey, checkMetadata, checkOptions, checkPrefix, checkSignal, checkText, describeValue } from './arguments.js'
import { ConfigError, StorageError, fromNative } from './errors.js'
import nativeModule from './native.js'
import type { Capabilities, NativeGetOptions, NativeObjectMeta, NativePutOptions, NativeStore } from './native.js'
import { printable } from './printable.js'
import { UploadFeeder, UploadWritable, asBuffer, bufferedReader, nodeStream, toStorageError, webStream } from './streams.js'
import type { BodyReader } from './streams.js'
import type {
  Attributes, GetOptions, GetResult, ListOptions, ListResult, ListWithDelimiterOptions, ObjectMeta, ObjectStore,
  Progress, PutInput, PutOptions, PutResult, ReadStreamOptions, SignMethod, SignOptions,
  CreateMultipartUploadOptions, SignedPostForm, SignPostOptions, SignUploadPartsOptions, UploadedPart,
} from './types.js'

/** Base class of every store; use `MemoryStore`, `LocalStore`, `S3Store`, ... or `fromUrl`. */
export class Store implements ObjectStore {
  readonly #native: NativeStore

  /** @internal Wrap a native handle; use a concrete store class instead. */
  constructor(native: NativeStore) {
    this.#native = native
  }

  async put(path: string, data: PutInput, options?: PutOptions | null): Promise<PutResult> {
    const key = checkKey(path)
    const opts = checkOptions<PutOptions>(options, 'put() options')
    const signal = checkSignal(opts.signal)
    const onProgress = checkProgress(opts.onProgress)
    if (signal?.aborted) throw abortError(key, signal)
    const native = checkPutOptions(opts)
    if (isBytes(data)) {
      const bytes = asBuffer(data)
      if (!signal && !onProgress) {
        return call(key, async () => cleanResult(await this.#native.put(key, bytes, native)))
      }
      // Fed part by part, so progress is reported and an abort stops it between parts; its
      // length is known, so the part sizes are planned as for a put of the whole buffer.
      const chunkSize = opts.chunkSize ?? nativeModule.DEFAULT_CHUNK_SIZE
      const feeder = this.#feeder(key, { ...native, contentLength: native.contentLength ?? bytes.length }, onProgress, bytes.length)
      return feeder.pump(slices(bytes, chunkSize), signal, { stable: true })
    }
    if (!isIterable(data)) {
      throw new ConfigError(`put() takes bytes, a string, a Readable, a ReadableStream or an async iterable, got ${describeValue(data)}`, { path: key })
    }
    return this.#feeder(key, native, onProgress).pump(data, signal)
  }

  async get(path: string, options?: GetOptions | null): Promise<GetResult> {
    const key = checkKey(path)
    const opts = checkOptions<GetOptions>(options, 'get() options')
    const signal = checkSignal(opts.signal)
    if (signal?.aborted) throw abortError(key, signal)
    const nativeOptions = checkGetOptions(opts)
    const result = await call(key, () => this.#native.get(key, nativeOptions), signal, (late) => late.reader?.cancel())
    const { start, end } = result
    const attributes: Attributes = { metadata: {} }
    for (const [name, value] of Object.entries(result.attributes ?? {})) {
      if (value !== null && value !== undefined) (attributes as unknown as Record<string, unknown>)[name] = value
    }
    let source: BodyReader | undefined = result.reader ?? bufferedReader(result.body!)
    const takeReader = () => {
      if (!source) throw new StorageError('the body of this GetResult has already been read', 'GENERIC', { path: key })
      const taken = source
      source = undefined
      return taken
    }
    const bytes = async () => {
      const taken = takeReader()
      return call(key, () => taken.readAll(end - start), signal, undefined, () => taken.cancel())
    }
    return {
      meta: toMeta(result.meta),
      range: { start, end },
      attributes,
      bytes,
      text: async () => (await bytes()).toString('utf8'),
      stream: () => {
        const taken = takeReader()
        return webStream(async () => taken, key, signal)
      },
    }
  }

  async getRange(path: string, start: number, end: number): Promise<Buffer> {
    const key = checkKey(path)
    return call(key, () => this.#native.getRange(key, start, end))
  }

  async getRanges(path: string, ranges: Array<[number, number]>): Promise<Buffer[]> {
    const key = checkKey(path)
    if (!Array.isArray(ranges) || !ranges.every((range) => Array.isArray(range) && range.length === 2)) {
      throw new ConfigError(`getRanges() takes an array of [start, end] pairs, got ${describeValue(ranges)}`, { path: key })
    }
    return call(key, () => this.#native.getRanges(key, ranges))
  }

  async head(path: string): Promise<ObjectMeta> {
    const key = checkKey(path)
    return call(key, async () => toMeta(await this.#native.head(key)))
  }

  async *list(prefix?: string | null, options?: ListOptions | null): AsyncIterable<ObjectMeta> {
    const listed = checkPrefix(prefix)
    const opts = checkOptions<ListOptions>(options, 'list() options')
    const offset = opts.offset === undefined || opts.offset === null ? undefined : checkKey(opts.offset, 'list offset')
    const signal = checkSignal(opts.signal)
    const where = listed ?? ''
    if (signal?.aborted) throw abortError(where, signal)
    const lister = callSync(where, () => this.#native.list(listed, offset))
    for (;;) {
      const page = await call(where, () => lister.nextPage(), signal)
      if (page === null) return
      for (const entry of page) yield toMeta(entry)
    }
  }

  async listWithDelimiter(prefix?: string | null, options?: ListWithDelimiterOptions | null): Promise<ListResult> {
    const listed = checkPrefix(prefix)
    const signal = checkSignal(checkOptions<ListWithDelimiterOptions>(options, 'listWithDelimiter() options').signal)
    const where = listed ?? ''
    if (signal?.aborted) throw abortError(where, signal)
    return call(where, async () => {
      const result = await this.#native.listWithDelimiter(listed)
      return { objects: result.objects.map(toMeta), commonPrefixes: result.commonPrefixes }
    }, signal)
  }

  async delete(paths: string | string[]): Promise<void> {
    const keys = Array.isArray(paths) ? paths.map((path) => checkKey(path)) : checkKey(paths)
    return call(Array.isArray(keys) ? keys.join(', ') : keys, () => this.#native.delete(keys))
  }

  async copy(from: string, to: string, options?: { overwrite?: boolean } | null): Promise<void> {
    const [source, target] = [checkKey(from, 'source key'), checkKey(to, 'target key')]
    const overwrite = checkOverwrite(checkOptions<{ overwrite: boolean }>(options, 'copy() options').overwrite)
    return callPair(source, target, () => this.#native.copy(source, target, overwrite))
  }

  async rename(from: string, to: string, options?: { overwrite?: boolean } | null): Promise<void> {
    const [source, target] = [checkKey(from, 'source key'), checkKey(to, 'target key')]
    const overwrite = checkOverwrite(checkOptions<{ overwrite: boolean }>(options, 'rename() options').overwrite)
    return callPair(source, target, () => this.#native.rename(source, target, overwrite))
  }

  signUrl(method: SignMethod, path: string, options?: SignOptions | null): Promise<string> {
    return callNowOrLater(path, () =>
      this.#native.signUrl(method, checkKey(path), checkOptions<SignOptions>(options, 'signUrl() options')))
  }

  signUrls(method: SignMethod, paths: string[], options?: SignOptions | null): Promise<string[]> {
    return callNowOrLater(Array.isArray(paths) && paths.length === 1 ? paths[0] : '', () => {
      if (!Array.isArray(paths)) throw new ConfigError(`signUrls() takes an array of keys, got ${describeValue(paths)}`)
      const keys = paths.map((path) => checkKey(path))
      return this.#native.signUrls(method, keys, checkOptions<SignOptions>(options, 'signUrls() options'))
    })
  }

  signPost(path: string, options: SignPostOptions): Promise<SignedPostForm> {
    return callNowOrLater(path, () =>
      this.#native.signPost(checkKey(path), checkOptions<SignPostOptions>(options, 'signPost() options') as SignPostOptions))
  }

  async createMultipartUpload(path: string, options?: CreateMultipartUploadOptions | null): Promise<string> {
    const key = checkKey(path)
    const opts = checkOptions<CreateMultipartUploadOptions>(options, 'createMultipartUpload() options')
    return call(key, () => this.#native.createMultipartUpload(key, opts))
  }

  signUploadParts(
    path: string, uploadId: string, partNumbers: number[], options?: SignUploadPartsOptions | null,
  ): Promise<string[]> {
    return callNowOrLater(path, () => this.#native.signUploadParts(
      checkKey(path), uploadId, partNumbers, checkOptions<SignUploadPartsOptions>(options, 'signUploadParts() options')))
  }

  async completeMultipartUpload(path: string, uploadId: string, parts: UploadedPart[]): Promise<PutResult> {
    const key = checkKey(path)
    return call(key, () => this.#native.completeMultipartUpload(key, uploadId, parts))
  }

  async abortMultipartUpload(path: string, uploadId: string): Promise<void> {
    const key = checkKey(path)
    return call(key, () => this.#native.abortMultipartUpload(key, uploadId))
  }

  createReadStream(path: string, options?: ReadStreamOptions | null): Readable {
    let signal: AbortSignal | undefined
    let open: () => Promise<BodyReader>
    try {
      const key = checkKey(path)
      const opts = checkOptions<ReadStreamOptions>(options, 'createReadStream() options')
      signal = checkSignal(opts.signal)
      const { start, end } = opts
      const range = (start === undefined || start === null) && (end === undefined || end === null)
        ? undefined
        : { start: start ?? 0, ...(end === undefined || end === null ? {} : { end: checkNumber(end, 'end') + 1 }) }
      const nativeOptions = checkGetOptions({ range })
      open = async () => {
        const result = await raceAbort(this.#native.get(key, nativeOptions), signal, key, (late) => late.reader?.cancel())
        return result.reader ?? bufferedReader(result.body!)
      }
    } catch (err) {
      // Bad arguments reach the caller the way every other failure of this stream does.
      const failure = fromNative(err, path)
      open = () => Promise.reject(failure)
    }
    return nodeStream(open, printable(path), signal)
  }

  createWriteStream(path: string, options?: PutOptions | null): Writable {
    return callSync(printable(path), () => {
      const key = checkKey(path)
      const opts = checkOptions<PutOptions>(options, 'createWriteStream() options')
      const signal = checkSignal(opts.signal)
      const feeder = this.#feeder(key, checkPutOptions(opts), checkProgress(opts.onProgress))
      return new UploadWritable(feeder, key, signal)
    })
  }

  /** What this store supports; anything else fails with `NOT_SUPPORTED` when tried. */
  get capabilities(): Capabilities {
    return this.#native.capabilities
  }

  /** A description without secrets. */
  toString(): string {
    return this.#native.describe()
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString()
  }

  #feeder(path: string, native: NativePutOptions, onProgress: ((p: Progress) => void) | undefined, total?: number): UploadFeeder {
    const upload = callSync(path, () => this.#native.upload(path, native))
    return new UploadFeeder(upload, path, onProgress, total)
  }
}

/**
 * Run a native operation, mapping its failure to a `StorageError`. With a `signal`, the call
 * settles as soon as it fires: `onLate` releases a result that arrives after the abort, and
 * `onAbort` stops the native work at once (a body read that would otherwise wait out a stall).
 */
async function call<T>(
  path: string,
  op: () => Promise<T>,
  signal?: AbortSignal,
  onLate?: (value: T) => void,
  onAbort?: () => void,
): Promise<T> {
  const stop = onAbort && signal ? () => onAbort() : undefined
  if (stop) signal!.addEventListener('abort', stop, { once: true })
  try {
    return await raceAbort(op(), signal, path, onLate)
  } catch (err) {
    throw toStorageError(err, path, signal)
  } finally {
    if (stop) signal!.removeEventListener('abort', stop)
  }
}

/**
 * An operation Rust finishes on the spot when it can (signing: `now_or_promise` in
 * crates/stowage-node/src/runtime/promise.rs), else hands back a promise: a value becomes an
 * already-settled promise, which costs less than the sign itself would through N-API's
 * deferreds; a throw (a bad argument, here or in Rust) becomes a rejection, as from any
 * async method.
 */
function callNowOrLater<T>(path: unknown, op: () => T | Promise<T>): Promise<T> {
  let outcome: T | Promise<T>
  try {
    outcome = op()
  } catch (err) {
    return Promise.reject(fromNative(err, path))
  }
  return outcome instanceof Promise ? call(printable(path), () => outcome) : Promise.resolve(outcome)
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

function checkOverwrite(overwrite: unknown): boolean {
  if (overwrite === undefined || overwrite === null) return true
  if (typeof overwrite !== 'boolean') throw new ConfigError(`overwrite must be a boolean, got ${describeValue(overwrite)}`)
  return overwrite
}

function checkProgress(onProgress: unknown): ((p: Progress) => void) | undefined {
  if (onProgress === undefined || onProgress === null) return undefined
  if (typeof onProgress !== 'function') throw new ConfigError(`onProgress must be a function, got ${describeValue(onProgress)}`)
  return onProgress as (p: Progress) => void
}

function checkNumber(value: unknown, name: string): number {
  if (typeof value !== 'number') throw new ConfigError(`${name} must be a number, got ${describeValue(value)}`)
  return value
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

/**
 * The options Rust takes, checked for what only JavaScript can see: strings with a lone
 * surrogate (the conversion to UTF-8 would change them) and values that napi-rs would
 * quietly read as objects. Shapes, ranges and numbers are Rust's to check.
 */
function checkPutOptions(opts: Partial<PutOptions>): NativePutOptions {
  const { mode } = opts
  if (mode !== undefined && mode !== null && typeof mode !== 'string' && (typeof mode !== 'object' || Array.isArray(mode))) {
    throw new ConfigError(`mode must be 'overwrite', 'create' or { etag, version }, got ${describeValue(mode)}`)
  }
  if (typeof mode === 'object' && mode !== null) {
    checkText(mode.etag, 'mode.etag')
    checkText(mode.version, 'mode.version')
  }
  for (const name of ['contentType', 'contentDisposition', 'contentEncoding', 'contentLanguage', 'cacheControl'] as const) {
    checkText(opts[name], name)
  }
  checkMetadata(opts.metadata)
  const { signal: _signal, onProgress: _onProgress, ...native } = opts
  return native
}

function checkGetOptions(opts: Partial<GetOptions>): NativeGetOptions {
  const range: unknown = opts.range ?? undefined
  if (range !== undefined && (typeof range !== 'object' || Array.isArray(range))) {
    throw new ConfigError(`range must be { start, end? } or { suffix }, got ${describeValue(range)}`)
  }
  for (const name of ['ifMatch', 'ifNoneMatch', 'version'] as const) checkText(opts[name], name)
  checkDate(opts.ifModifiedSince, 'ifModifiedSince')
  checkDate(opts.ifUnmodifiedSince, 'ifUnmodifiedSince')
  const { signal: _signal, ...native } = opts
  return native
}

function checkDate(value: unknown, name: string): Date | undefined {
  if (value === undefined || value === null) return undefined
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new ConfigError(`${name} must be a valid Date, got ${describeValue(value)}`)
  }
  return value
}
