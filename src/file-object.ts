import { randomUUID } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { basename } from 'node:path'
import type { Readable } from 'node:stream'
import { create as contentDisposition } from 'content-disposition'
import type MimeTypes from 'mime-types'
import { ChecksumTally, hashingSource } from './checksum.js'
import { ContentInspector, IMAGE_HEADER_BYTES, checksContent, inspectedSource } from './content-check.js'
import { deleteQuietly } from './delete-quietly.js'
import {
  assertDerivativeSpecs,
  derivativeFilename,
  derivativeKey,
  isDerivativeName,
  prepareDerivative,
  type DerivativeOutput,
} from './derivatives.js'
import { DerivativeError } from './errors.js'
import { checkFileConstraints, fileTooLarge, type FileConstraints } from './file-validation.js'
import type { ObjectStore, PutOptions, PutResult, SignOptions } from './types.js'
import { printable } from './printable.js'
import { storages } from './registry.js'

/** Bytes a `FileObject` can be made from: a buffer, a string (UTF-8) or a stream of bytes. */
export type FileContent =
  | Uint8Array
  | ArrayBuffer
  | string
  | Readable
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>

/** Options of `new FileObject(...)`. */
export interface FileObjectInit {
  /** Name of the store in `storages`; a `@StoredObjectColumn` fills in its own when omitted. */
  backend?: string
  /** The original filename, kept beside the key; defaults to the basename of `sourcePath` or `key`. */
  filename?: string
  /** The bytes to upload on `save()`. */
  content?: FileContent
  /** A file on disk to upload on `save()`, streamed rather than read whole. */
  sourcePath?: string
  /** Defaults to a guess from the filename, then `application/octet-stream`. */
  contentType?: string
  /** User metadata sent with the object (dropped by `LocalStore`) and kept in the JSON. */
  metadata?: Record<string, string>
  /** The object's key; defaults to `<keyPrefix>/<uuid>/<sanitized filename>`, unique per upload. */
  key?: string
  /** A prefix for the default key. */
  keyPrefix?: string
  /**
   * Progress of the upload, however it is started: by `save()` or by a TypeORM `save()` of the
   * row holding this file.
   */
  onProgress?: (progress: { loaded: number; total?: number }) => void
}

/** The JSON a `FileObject` is stored as (the metadata, never the bytes). */
export interface FileObjectJSON {
  backend: string
  key: string
  filename: string
  contentType?: string
  size?: number
  checksum?: string
  etag?: string
  version?: string
  lastModified?: string
  metadata?: Record<string, string>
  /** The derivatives made when the file was saved, by name (see {@link FileObject.derivatives}). */
  derivatives?: Record<string, FileObjectJSON>
}

/**
 * Makes one derivative of a file being saved: given the original's bytes as a `Buffer` (what
 * `sharp(source)` takes) and the original `FileObject` (its `filename`, `contentType`, `size`,
 * `key` are set), it returns the derivative's content — a `Buffer`/`Uint8Array`, a `Readable`
 * (a `sharp` pipeline is one), an async iterable of bytes, or `{ content, contentType }` — or
 * `null`/`undefined` when this file has none (a PDF in a column whose thumbnails are for images).
 * It may be async. The content type is the one given, else the format the bytes show.
 */
export type DerivativeFunction = (source: Buffer, original: FileObject) => DerivativeOutput | Promise<DerivativeOutput>

/** The derivatives to make of a file when it is saved, by name: `{ thumb: (source) => ... }`. */
export type DerivativeSpecs = Readonly<Record<string, DerivativeFunction>>

/** Options of {@link FileObject.save}. */
export interface FileSaveOptions
  extends Pick<PutOptions, 'signal' | 'chunkSize' | 'concurrency' | 'mode' | 'cacheControl' | 'contentDisposition'>,
    FileConstraints {
  /** Called as bytes go up; `total` is set when the size is known in advance. */
  onProgress?: (progress: { loaded: number; total?: number }) => void
  /**
   * Refuse (and abort the upload of) content larger than this many bytes. With
   * `allowedContentTypes`, `maxImageWidth` or `maxImageHeight`, the first bytes are checked
   * before any reaches the store; a refusal is a `FileValidationError`.
   */
  maxSize?: number
  /**
   * Derivatives to make once the content is uploaded, stored in the same store under
   * `<key>.derivatives/<name>` and set in {@link FileObject.derivatives}. A derivative that
   * fails fails the save with a `DerivativeError`, and the original and every derivative are
   * deleted again.
   */
  derivatives?: DerivativeSpecs
}

/** Options of {@link FileObject.signUrl}. */
export interface FileSignUrlOptions {
  /** Default `GET`. */
  method?: 'GET' | 'PUT' | 'HEAD' | 'DELETE'
  /** Seconds the URL stays valid (default 3600). */
  expiresIn?: number
  /** Serve the file inline (`Content-Disposition: inline`) rather than as an attachment. */
  inline?: boolean
  /** The name the browser saves the file as; defaults to the original `filename`. */
  filename?: string
}

type PendingContent = { kind: 'content'; content: FileContent } | { kind: 'path'; path: string }

const BRAND = Symbol.for('stowage.FileObject')

/** A filename reduced to characters that are safe in a key on every backend. */
export function sanitizeFilename(filename: string): string {
  const base = filename.split(/[\\/]/).pop() ?? ''
  const ascii = base.normalize('NFKD').replace(/[\u0300-\u036f]/g, '')
  const cleaned = ascii
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(-120)
  return cleaned.length > 0 ? cleaned : 'file'
}

/** A fresh, unique key for `filename`: `<keyPrefix>/<uuid>/<sanitized filename>`. */
export function defaultKey(filename: string, keyPrefix: string | undefined): string {
  const prefix = (keyPrefix ?? '').replace(/^\/+|\/+$/g, '')
  const tail = `${randomUUID()}/${sanitizeFilename(filename)}`
  return prefix.length > 0 ? `${prefix}/${tail}` : tail
}

// Loaded at run time, never bundled: mime-types is CommonJS and its require() of Node built-ins
// breaks inside an ESM bundle.
const mime = createRequire(import.meta.url)('mime-types') as typeof MimeTypes

function guessContentType(filename: string): string {
  return mime.lookup(filename) || 'application/octet-stream'
}

function isByteContent(content: FileContent): content is Uint8Array | ArrayBuffer | string {
  return typeof content === 'string' || content instanceof Uint8Array || content instanceof ArrayBuffer
}

function toBuffer(content: Uint8Array | ArrayBuffer | string): Buffer {
  if (typeof content === 'string') return Buffer.from(content, 'utf8')
  if (content instanceof ArrayBuffer) return Buffer.from(content)
  return Buffer.from(content.buffer, content.byteOffset, content.byteLength)
}

function asAsyncIterable(content: FileContent): AsyncIterable<unknown> {
  if (content != null && typeof (content as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    return content as AsyncIterable<unknown>
  }
  throw new TypeError('FileObject content must be a Buffer, Uint8Array, ArrayBuffer, string, Readable, ReadableStream or AsyncIterable')
}

function sortedKeys(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value
  const record = value as Record<string, unknown>
  return Object.fromEntries(
    Object.keys(record)
      .sort()
      .map((k) => [k, sortedKeys(record[k])]),
  )
}

/**
 * A file kept in a named store: its key and metadata (filename, content type, size, sha256
 * checksum, etag) and, until `save()`, the content to upload. A loaded `FileObject` holds only
 * metadata; its bytes are read from the store.
 */
export class FileObject {
  /** Name of the store in `storages`. */
  backend: string
  /** The object's key in the store. */
  key: string
  /** The original filename. */
  filename: string
  /** The MIME type. */
  contentType: string
  /** Size in bytes, known once saved. */
  size?: number
  /** `sha256:<hex>` of the content, computed while it was uploaded. */
  checksum?: string
  /** The store's etag after the upload. */
  etag?: string
  /** The store's version id after the upload, on versioned buckets. */
  version?: string
  /** When the store last wrote the object. */
  lastModified?: Date
  /** User metadata. */
  metadata: Record<string, string>
  /**
   * Files made from this one when it was saved (`derivatives` of its `@StoredObjectColumn`, or
   * of `save()`), by name: `file.derivatives.thumb` is a `FileObject` in the same store, under
   * `<key>.derivatives/thumb`. Empty for a file saved without derivatives. They are kept in the
   * file's JSON, and deleted with it by the TypeORM lifecycle.
   */
  derivatives: Record<string, FileObject> = {}

  #pending: PendingContent | undefined
  #keyIsDefault: boolean
  #onProgress: FileObjectInit['onProgress']

  /** A new file; with `content` or `sourcePath` it has pending content that `save()` uploads. */
  constructor(init: FileObjectInit) {
    if (init.content !== undefined && init.sourcePath !== undefined) {
      throw new TypeError('FileObject: give either content or sourcePath, not both')
    }
    const filename =
      init.filename ??
      (init.sourcePath !== undefined ? basename(init.sourcePath) : undefined) ??
      (init.key !== undefined ? basename(init.key) : undefined) ??
      'file'
    this.backend = init.backend ?? ''
    this.filename = filename
    this.contentType = init.contentType ?? guessContentType(filename)
    this.metadata = { ...(init.metadata ?? {}) }
    this.#keyIsDefault = init.key === undefined
    this.key = init.key ?? defaultKey(filename, init.keyPrefix)
    this.#onProgress = init.onProgress
    if (init.content !== undefined) this.#pending = { kind: 'content', content: init.content }
    else if (init.sourcePath !== undefined) this.#pending = { kind: 'path', path: init.sourcePath }
  }

  /** Whether `value` is a `FileObject`, from this copy of stowage or another one (ESM and CJS). */
  static isFileObject(value: unknown): value is FileObject {
    return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true
  }

  /** Makes `instanceof FileObject` hold for a `FileObject` of any copy of stowage (see `isFileObject`). */
  static [Symbol.hasInstance](value: unknown): boolean {
    return this === FileObject ? FileObject.isFileObject(value) : Function.prototype[Symbol.hasInstance].call(this, value)
  }

  /** A `FileObject` with no pending content, from the JSON `toJSON()` produced. */
  static fromJSON(json: FileObjectJSON | string): FileObject {
    const data = typeof json === 'string' ? (JSON.parse(json) as FileObjectJSON) : json
    if (data === null || typeof data !== 'object' || typeof data.key !== 'string' || typeof data.backend !== 'string') {
      throw new TypeError('FileObject.fromJSON: expected an object with string "backend" and "key"')
    }
    const file = new FileObject({
      backend: data.backend,
      key: data.key,
      filename: data.filename ?? basename(data.key),
      contentType: data.contentType,
      metadata: data.metadata,
    })
    if (data.size !== undefined && data.size !== null) file.size = Number(data.size)
    if (data.checksum) file.checksum = data.checksum
    if (data.etag) file.etag = data.etag
    if (data.version) file.version = data.version
    if (data.lastModified) file.lastModified = new Date(data.lastModified)
    if (data.derivatives !== undefined && data.derivatives !== null) {
      if (typeof data.derivatives !== 'object' || Array.isArray(data.derivatives)) {
        throw new TypeError('FileObject.fromJSON: "derivatives" must be an object of FileObject JSON, by name')
      }
      for (const [name, derivative] of Object.entries(data.derivatives)) {
        // A name is part of a key and a property here: only the names a save can have made.
        if (!isDerivativeName(name)) throw new TypeError(`FileObject.fromJSON: ${JSON.stringify(name)} cannot name a derivative`)
        file.derivatives[name] = FileObject.fromJSON(derivative)
      }
    }
    return file
  }

  /** Whether there is content that `save()` has not uploaded yet. */
  get hasPendingContent(): boolean {
    return this.#pending !== undefined
  }

  /** The store this file lives in (`storages.get(backend)`). */
  get store(): ObjectStore {
    return storages.get(this.backend)
  }

  /**
   * The size of the pending content when it is known without reading it (a buffer, a string, a
   * file on disk); `undefined` for a stream, or when there is no pending content.
   */
  async pendingSize(): Promise<number | undefined> {
    const pending = this.#pending
    if (pending === undefined) return undefined
    if (pending.kind === 'path') return (await stat(pending.path)).size
    return isByteContent(pending.content) ? toBuffer(pending.content).byteLength : undefined
  }

  /**
   * Checks the pending content against `constraints` as far as it can without uploading: the
   * known size and the declared type, and, for bytes in memory or a file on disk, the content's
   * format and image dimensions from its first bytes. A stream is checked by `save()` as it is
   * read. Throws a `FileValidationError`.
   * @internal used by `@StoredObjectColumn`'s subscriber, so that no file of a save is uploaded
   * while another can still be refused
   */
  async checkPending(constraints: FileConstraints): Promise<void> {
    const pending = this.#pending
    if (pending === undefined) return
    checkFileConstraints(this, await this.pendingSize(), constraints)
    if (!checksContent(constraints)) return
    const inspector = new ContentInspector(this, constraints)
    if (pending.kind === 'content' && isByteContent(pending.content)) {
      await inspector.inspect(toBuffer(pending.content), true)
    } else if (pending.kind === 'path') {
      const head = createReadStream(pending.path, { end: IMAGE_HEADER_BYTES - 1, highWaterMark: 64 * 1024 })
      // The same gate as save(): its first chunk comes out once every check has passed (a
      // refusal throws), and leaving then closes the file without reading the rest of the head.
      for await (const _passed of inspectedSource(head, inspector)) break
    }
  }

  /**
   * Fills in the store and key prefix a column gives, for a file not yet uploaded. The key is
   * only re-prefixed when it was generated, never when the caller chose it.
   * @internal used by `@StoredObjectColumn`'s subscriber
   */
  applyDefaults(defaults: { backend: string; keyPrefix?: string }): void {
    if (this.backend === '') this.backend = defaults.backend
    if (this.#keyIsDefault && this.#pending !== undefined && defaults.keyPrefix) {
      const prefix = defaults.keyPrefix.replace(/^\/+|\/+$/g, '')
      if (prefix.length > 0 && !this.key.startsWith(`${prefix}/`)) this.key = `${prefix}/${this.key}`
    }
  }

  /**
   * Uploads the pending content (streamed, never read twice) and fills in `size`, `checksum`,
   * `etag`, `version` and `lastModified`. Does nothing when there is no pending content.
   */
  async save(opts: FileSaveOptions = {}): Promise<this> {
    const pending = this.#pending
    if (pending === undefined) return this
    if (this.backend === '') {
      throw new TypeError(`FileObject "${this.filename}": no backend; pass { backend } or use a @StoredObjectColumn`)
    }
    assertDerivativeSpecs(opts.derivatives, `FileObject "${this.filename}".save`)
    const store = this.store
    const tally = new ChecksumTally()
    const limit = { maxSize: opts.maxSize, filename: this.filename }
    const inspector = checksContent(opts) ? new ContentInspector(this, opts) : undefined
    let body: Buffer | AsyncIterable<Uint8Array>
    let total: number | undefined
    if (pending.kind === 'content' && isByteContent(pending.content)) {
      body = toBuffer(pending.content)
      total = body.byteLength
      if (opts.maxSize !== undefined && total > opts.maxSize) throw fileTooLarge(this.filename, total, opts.maxSize)
      await inspector?.inspect(body, true)
      tally.update(body)
    } else {
      let source: AsyncIterable<unknown>
      if (pending.kind === 'path') {
        total = (await stat(pending.path)).size
        if (opts.maxSize !== undefined && total > opts.maxSize) throw fileTooLarge(this.filename, total, opts.maxSize)
        source = createReadStream(pending.path, { highWaterMark: 1024 * 1024 })
      } else {
        source = asAsyncIterable(pending.content)
      }
      // Counted (and cut at maxSize) before the inspector holds back the first bytes, so a
      // refusal by either comes before the store has received anything it would keep.
      body = hashingSource(source, tally, limit)
      if (inspector !== undefined) body = inspectedSource(body, inspector)
    }
    const {
      onProgress = this.#onProgress,
      maxSize: _maxSize,
      allowedContentTypes: _allowed,
      maxImageWidth: _width,
      maxImageHeight: _height,
      derivatives: specs,
      ...putOptions
    } = opts
    let result: PutResult
    try {
      result = await store.put(this.key, body, {
        ...putOptions,
        contentType: this.contentType,
        metadata: Object.keys(this.metadata).length > 0 ? this.metadata : undefined,
        onProgress: onProgress ? (p) => onProgress({ loaded: p.loaded, total: p.total ?? total }) : undefined,
      })
    } catch (error) {
      throw tally.refusal ?? inspector?.refusal ?? error
    }
    const meta = await store.head(this.key)
    const before = { size: this.size, checksum: this.checksum, etag: this.etag, version: this.version, lastModified: this.lastModified }
    this.size = tally.size
    this.checksum = tally.digest()
    this.etag = result.etag ?? meta.etag
    this.version = result.version ?? meta.version
    this.lastModified = meta.lastModified
    if (specs !== undefined && Object.keys(specs).length > 0) {
      try {
        // Bytes given in memory are the source as they are; streamed or on-disk content was
        // read once, by the upload, so the source is the stored object.
        const source = Buffer.isBuffer(body) ? body : await store.get(this.key).then((got) => got.bytes())
        this.derivatives = await this.#makeDerivatives(specs, source, putOptions)
      } catch (error) {
        // Nothing of a failed save stays: the original goes, as every derivative already did.
        await deleteQuietly([{ backend: this.backend, key: this.key }], () => {})
        Object.assign(this, before)
        throw error
      }
    }
    this.#pending = undefined
    this.#keyIsDefault = false
    return this
  }

  /**
   * Runs every derivative function of `specs` on `source` and uploads what they return, all at
   * once; resolves to the derivatives made. When one fails, the others' objects are deleted and
   * its error (a `DerivativeError`, or the store's error for a failed upload) is thrown.
   */
  async #makeDerivatives(
    specs: DerivativeSpecs,
    source: Buffer,
    putOptions: Pick<FileSaveOptions, 'signal' | 'chunkSize' | 'concurrency' | 'cacheControl'>,
  ): Promise<Record<string, FileObject>> {
    const names = Object.keys(specs)
    const outcomes = await Promise.allSettled(names.map((name) => this.#makeDerivative(name, specs[name]!, source, putOptions)))
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected')
    if (failure !== undefined) {
      await deleteQuietly(names.map((name) => ({ backend: this.backend, key: derivativeKey(this.key, name) })), () => {})
      throw failure.reason
    }
    const made: Record<string, FileObject> = {}
    outcomes.forEach((outcome, i) => {
      const derivative = (outcome as PromiseFulfilledResult<FileObject | undefined>).value
      if (derivative !== undefined) made[names[i]!] = derivative
    })
    return made
  }

  async #makeDerivative(
    name: string,
    generate: DerivativeFunction,
    source: Buffer,
    putOptions: Pick<FileSaveOptions, 'signal' | 'chunkSize' | 'concurrency' | 'cacheControl'>,
  ): Promise<FileObject | undefined> {
    const fail = (what: string, cause?: unknown) =>
      new DerivativeError(`stowage: the derivative "${name}" of "${this.filename}" ${what}`, { derivative: name, path: this.key, cause })
    let output: DerivativeOutput
    try {
      output = await generate(source, this)
    } catch (error) {
      throw fail(`failed: ${(error as Error)?.message ?? printable(error)}`, error)
    }
    const prepared = await prepareDerivative(name, output, this)
    if (prepared === undefined) return undefined
    const derivative = new FileObject({
      backend: this.backend,
      key: derivativeKey(this.key, name),
      filename: derivativeFilename(this.filename, name, prepared.ext),
      contentType: prepared.contentType,
      content: prepared.body,
    })
    const { signal, chunkSize, concurrency, cacheControl } = putOptions
    try {
      return await derivative.save({ signal, chunkSize, concurrency, cacheControl })
    } catch (error) {
      const cause = prepared.failure.error
      if (cause === undefined) throw error
      throw fail(`failed while its stream was read: ${(cause as Error)?.message ?? printable(cause)}`, cause)
    }
  }

  /** The whole content: the pending bytes if not uploaded yet, otherwise read from the store. */
  async getContent(): Promise<Buffer> {
    const pending = this.#pending
    if (pending?.kind === 'content' && isByteContent(pending.content)) return toBuffer(pending.content)
    if (pending !== undefined) {
      throw new TypeError(`FileObject "${this.filename}": save() it before reading streamed or on-disk content back`)
    }
    return (await this.store.get(this.key)).bytes()
  }

  /** A Node `Readable` of the stored content, optionally from `start` to `end` inclusive (as `fs.createReadStream`). */
  stream(opts?: { start?: number; end?: number; signal?: AbortSignal }): Readable {
    return this.store.createReadStream(this.key, opts)
  }

  /** Deletes the stored object. */
  async delete(): Promise<void> {
    await this.store.delete(this.key)
  }

  /**
   * A presigned URL for the object (default `GET`, valid `expiresIn` seconds, default 3600). A
   * `GET` or `HEAD` link makes the server answer with `Content-Disposition: attachment` and the
   * original filename (RFC 6266, with an RFC 5987 `filename*` for a name that is not ASCII) and
   * the file's `Content-Type`, so that a browser saves the file under its name rather than render
   * it (an uploaded HTML page never runs on your origin); `{ inline: true }` asks for `inline`.
   */
  async signUrl(opts: FileSignUrlOptions = {}): Promise<string> {
    const method = opts.method ?? 'GET'
    const options: SignOptions & { responseContentDisposition?: string; responseContentType?: string } = { expiresIn: opts.expiresIn }
    if (method === 'GET' || method === 'HEAD') {
      options.responseContentDisposition = contentDisposition(opts.filename ?? this.filename, { type: opts.inline === true ? 'inline' : 'attachment' })
      if (this.contentType) options.responseContentType = this.contentType
    }
    return this.store.signUrl(method, this.key, options)
  }

  /** The metadata as stored in a database column; never the bytes. */
  toJSON(): FileObjectJSON {
    const json: FileObjectJSON = { backend: this.backend, key: this.key, filename: this.filename }
    if (this.contentType) json.contentType = this.contentType
    if (this.size !== undefined) json.size = this.size
    if (this.checksum !== undefined) json.checksum = this.checksum
    if (this.etag !== undefined) json.etag = this.etag
    if (this.version !== undefined) json.version = this.version
    if (this.lastModified !== undefined) json.lastModified = this.lastModified.toISOString()
    if (Object.keys(this.metadata).length > 0) json.metadata = { ...this.metadata }
    const derivatives = Object.entries(this.derivatives)
    if (derivatives.length > 0) json.derivatives = Object.fromEntries(derivatives.map(([name, file]) => [name, file.toJSON()]))
    return json
  }

  /**
   * Whether `other` describes the same stored object with the same metadata. A file with pending
   * content equals only itself, so a new upload always counts as a change.
   */
  equals(other: unknown): boolean {
    if (other === this) return true
    if (!FileObject.isFileObject(other)) return false
    if (this.hasPendingContent || other.hasPendingContent) return false
    return JSON.stringify(sortedKeys(this.toJSON())) === JSON.stringify(sortedKeys(other.toJSON()))
  }
}

Object.defineProperty(FileObject.prototype, BRAND, { value: true })
