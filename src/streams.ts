/**
 * Node and web stream adapters over the native reader and upload handles.
 * Bytes are pulled from Rust a chunk (up to 1 MiB) at a time, on demand, so a
 * slow consumer never makes the process buffer a whole object.
 */
import { Readable, Writable } from 'node:stream'
import { abortError, raceAbort } from './abort.js'
import { AbortError, ConfigError, StorageError, fromNative } from './errors.js'
import { describeValue } from './arguments.js'
import { widenFileStreamReads } from './file-stream-reads.js'
import type { NativeReader, NativeUpload } from './native.js'
import type { Progress, PutResult } from './types.js'

/** A source of chunks that may fail with a native error. */
/** What a stream pulls chunks from: a native reader, or a body `get` already read. */
export type BodyReader = Pick<NativeReader, 'read' | 'readAll' | 'cancel'>

export type ChunkSource = () => Promise<BodyReader>

/** A body already in memory (small objects are read within `get`), as a one-chunk reader. */
export function bufferedReader(body: Buffer): BodyReader {
  let left: Buffer | null = body
  const take = () => {
    const chunk = left
    left = null
    return chunk
  }
  return {
    read: async () => take(),
    readAll: async () => take() ?? Buffer.alloc(0),
    cancel: () => void take(),
  }
}

/** A web `ReadableStream` over a native reader, opened lazily. */
export function webStream(open: ChunkSource, path: string, signal?: AbortSignal): ReadableStream<Uint8Array> {
  let reader: BodyReader | undefined
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (signal?.aborted) throw abortError(path, signal)
        reader ??= await raceAbort(open(), signal, path, (late) => late.cancel())
        // Raced: a stalled body must not hold an abort until the read timeout fires.
        const chunk = await raceAbort(reader.read(), signal, path)
        if (chunk === null) controller.close()
        else controller.enqueue(chunk)
      } catch (err) {
        reader?.cancel()
        throw toStorageError(err, path, signal)
      }
    },
    cancel() {
      reader?.cancel()
    },
  }, { highWaterMark: 0 })
}

/** A Node `Readable` over a native reader, opened on the first read. */
export function nodeStream(open: ChunkSource, path: string, signal?: AbortSignal): Readable {
  let reader: BodyReader | undefined
  const stream = new Readable({
    // Room for one chunk (up to 1 MiB) beyond the one being consumed: the next read is in
    // flight while the consumer works.
    highWaterMark: 1024 * 1024,
    read() {
      ;(async () => {
        reader ??= await raceAbort(open(), signal, path, (late) => late.cancel())
        const chunk = await raceAbort(reader.read(), signal, path)
        if (!stream.destroyed) stream.push(chunk)
      })().catch((err) => stream.destroy(toStorageError(err, path, signal)))
    },
    destroy(err, callback) {
      reader?.cancel()
      callback(err)
    },
  })
  if (signal) {
    const onAbort = () => stream.destroy(new AbortError(undefined, { path, cause: signal.reason }))
    if (signal.aborted) queueMicrotask(onAbort)
    else signal.addEventListener('abort', onAbort, { once: true })
    stream.once('close', () => signal.removeEventListener('abort', onAbort))
  }
  return stream
}

/** Map a failure to a `StorageError`, preferring `ABORTED` once the signal fired. */
export function toStorageError(err: unknown, path: string, signal?: AbortSignal): StorageError {
  if (signal?.aborted) return new AbortError(undefined, { path, cause: signal.reason })
  return fromNative(err, path)
}

/** Feeds an upload handle, reporting progress as the server confirms bytes. */
export class UploadFeeder {
  private reported = 0

  constructor(
    private readonly upload: NativeUpload,
    private readonly path: string,
    private readonly onProgress?: (p: Progress) => void,
    private readonly total?: number,
  ) {}

  /** Write `chunks`, in order, in one native call. */
  async write(chunks: Buffer[]): Promise<void> {
    this.report(await this.upload.write(chunks))
  }

  async finish(): Promise<PutResult> {
    const result = await this.upload.finish()
    this.report(this.upload.confirmed)
    return { etag: result.etag ?? undefined, version: result.version ?? undefined }
  }

  async abort(): Promise<void> {
    await this.upload.abort().catch(() => undefined)
  }

  private report(loaded: number): void {
    if (this.onProgress && loaded > this.reported) {
      this.reported = loaded
      this.onProgress(this.total === undefined ? { loaded } : { loaded, total: this.total })
    }
  }

  /**
   * Upload every chunk of `source`, aborting the upload on any failure.
   *
   * While one write is in flight the next chunks are read, and go in the next native call
   * together, so a stream of small chunks (64 KiB from `fs`) costs one call per gathered
   * megabyte, not one per chunk. A Node `Readable`'s chunks are the reader's to keep once
   * emitted, so they go as they came, uncopied (as `pipe()` hands them to `fs.WriteStream`).
   * Chunks of any other iterable are copied into a buffer of ours while they gather: a
   * generator may refill the same buffer as soon as it is asked for the next one. A `stable`
   * source (slices of a caller's Buffer, untouched until the put settles) is written as it
   * comes, one slice at a time.
   */
  async pump(source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array>, signal?: AbortSignal, { stable = false } = {}): Promise<PutResult> {
    let writing = false
    const batches = source instanceof Readable && !source.readableObjectMode
      ? readableBatches(source)
      : gatheredBatches(iterate(source), stable, () => writing)
    let inFlight: Promise<void> | undefined
    try {
      for (;;) {
        // A Readable's chunks gather while the write is in flight; take them after it.
        if (batches.gathersWhileWriting) await inFlight
        // Raced: an idle source must not hold an abort until it produces its next chunk.
        const batch = await raceAbort(batches.next(), signal, this.path)
        if (batch === undefined) break
        if (signal?.aborted) throw abortError(this.path, signal)
        await inFlight
        writing = true
        inFlight = raceAbort(this.write(batch), signal, this.path)
        inFlight.then(() => { writing = false }, () => undefined) // awaited above or below; never left unhandled
        if (stable) await inFlight
      }
      await inFlight
      inFlight = undefined
      if (signal?.aborted) throw abortError(this.path, signal)
      return await raceAbort(this.finish(), signal, this.path)
    } catch (err) {
      batches.stop()
      await this.abort()
      throw toStorageError(err, this.path, signal)
    }
  }
}

/** Batches of chunks to write: `next()` waits for at least one chunk; `undefined` at the end. */
interface Batches {
  /** True when chunks gather by themselves (events), false when `next()` pulls them. */
  gathersWhileWriting: boolean
  next(): Promise<Buffer[] | undefined>
  /** Stop reading the source (after a failure). */
  stop(): void
}

/**
 * A `Readable`'s chunks as it emits them, uncopied: whatever arrived since the last batch
 * was taken, waiting for one when none has. Reading pauses once `GATHER_BYTES` wait, so a
 * slow upload holds about that much beyond the write in flight.
 */
function readableBatches(stream: Readable): Batches {
  let waiting: Buffer[] = []
  let size = 0
  let ended = false
  let failure: unknown
  let wake: (() => void) | undefined
  const woken = () => { const w = wake; wake = undefined; w?.() }
  const onData = (chunk: Buffer | string) => {
    const bytes = asBuffer(chunk)
    if (bytes.length === 0) return // empty chunks carry nothing, wherever they come
    waiting.push(bytes)
    size += bytes.length
    if (size >= GATHER_BYTES) stream.pause()
    woken()
  }
  const onEnd = () => { ended = true; woken() }
  const onError = (err: unknown) => { failure ??= err; woken() }
  // A stream destroyed before its end (by its own code, or by a signal it was given) never
  // emits 'end': without this the upload would wait for it forever.
  const onClose = () => {
    if (!ended) failure ??= new StorageError('the stream closed before its end', 'GENERIC')
    woken()
  }
  if (stream.readableEnded) ended = true
  else if (stream.errored) failure = stream.errored
  else if (stream.destroyed) onClose()
  widenFileStreamReads(stream) // before the first read, which 'data' starts
  stream.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose)
  stream.resume() // a stream its owner paused flows too, as it would when iterated
  const detach = () => { stream.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose) }
  return {
    gathersWhileWriting: true,
    async next() {
      while (!waiting.length && !ended && failure === undefined) await new Promise<void>((resolve) => { wake = resolve })
      if (waiting.length) {
        const batch = waiting
        waiting = []
        size = 0
        if (!ended) stream.resume()
        return batch
      }
      detach()
      // The stream's own error, as iterating it would throw it (fromNative makes it a StorageError).
      if (failure !== undefined) throw failure instanceof Error ? failure : fromNative(failure)
      return undefined
    },
    stop() {
      detach()
      stream.destroy()
    },
  }
}

/**
 * Chunks of any iterable, copied into one buffer of ours while a write is in flight
 * (`writing()`), up to `GATHER_BYTES`; a `stable` source's chunks go one by one, uncopied.
 */
function gatheredBatches(
  chunks: AsyncIterator<Uint8Array | string> | Iterator<Uint8Array>, stable: boolean, writing: () => boolean,
): Batches {
  const gathered = new Gatherer()
  let done = false
  return {
    gathersWhileWriting: false,
    async next() {
      while (!done) {
        const next = await chunks.next()
        if (next.done) { done = true; break }
        const bytes = asBuffer(next.value)
        if (bytes.length === 0) continue // empty chunks carry nothing, wherever they come
        if (stable) return [bytes]
        gathered.add(bytes)
        if (!writing() || gathered.size >= GATHER_BYTES) return [gathered.take()]
      }
      return gathered.size ? [gathered.take()] : undefined
    },
    stop() {
      // Not awaited: an idle async generator settles `return()` only when it next resumes.
      Promise.resolve().then(() => chunks.return?.()).catch(() => undefined)
    },
  }
}

/** An iterator over a sync or async iterable of chunks. */
function iterate(source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array>): AsyncIterator<Uint8Array | string> | Iterator<Uint8Array> {
  if (Symbol.asyncIterator in source) return source[Symbol.asyncIterator]()
  return source[Symbol.iterator]()
}

/** Gathering stops at this size even if the write in flight has not finished. */
const GATHER_BYTES = 1024 * 1024

/** Chunks copied, one after another, into one buffer of ours. */
class Gatherer {
  private buffer: Buffer | undefined
  size = 0

  add(chunk: Buffer): void {
    if (chunk.length === 0) return
    const needed = this.size + chunk.length
    if (!this.buffer || needed > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(GATHER_BYTES, needed))
      this.buffer?.copy(grown, 0, 0, this.size)
      this.buffer = grown
    }
    chunk.copy(this.buffer, this.size) // a copy: the source may reuse its memory
    this.size = needed
  }

  take(): Buffer {
    const out = this.buffer!.subarray(0, this.size)
    this.buffer = undefined
    this.size = 0
    return out
  }
}

/** A `Writable` whose bytes go up as a (multipart) upload, finished on `end()`. */
export class UploadWritable extends Writable {
  /** The stored object's etag and version, once `finish` has fired. */
  result?: PutResult
  private settled = false

  constructor(private readonly feeder: UploadFeeder, private readonly path: string, signal?: AbortSignal) {
    super({ highWaterMark: 1024 * 1024, signal })
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.feeder.write([chunk]).then(() => callback(), (err) => callback(fromNative(err, this.path)))
  }

  /** Chunks that queued up while a write was in flight go in one native call, uncopied. */
  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.feeder.write(chunks.map((c) => c.chunk)).then(() => callback(), (err) => callback(fromNative(err, this.path)))
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.feeder.finish().then(
      (result) => {
        this.settled = true
        this.result = result
        callback()
      },
      (err) => callback(fromNative(err, this.path)),
    )
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.settled) return callback(error)
    this.settled = true
    const reason = error?.name === 'AbortError' && !(error instanceof StorageError)
      ? new AbortError(undefined, { path: this.path, cause: error })
      : error
    this.feeder.abort().then(() => callback(reason), () => callback(reason))
  }
}

/** View any byte input as a `Buffer` without copying. */
export function asBuffer(chunk: Uint8Array | ArrayBuffer | string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8')
  if (Buffer.isBuffer(chunk)) return chunk
  if (chunk instanceof ArrayBuffer) return Buffer.from(chunk)
  if (ArrayBuffer.isView(chunk)) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  throw new ConfigError(`a stream chunk must be bytes or a string, got ${describeValue(chunk)}`)
}
