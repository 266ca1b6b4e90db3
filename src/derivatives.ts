/**
 * Derivatives: files made from a file's content when it is saved (a thumbnail of an image, a
 * preview of a document), stored beside it under keys made from its key. This module holds what
 * does not need a `FileObject`: the key and filename scheme, the check of the `derivatives`
 * option, and the turning of what a derivative function returned into bytes to upload.
 * `FileObject.save` runs the functions and uploads their output (file-object.ts).
 */
import { createRequire } from 'node:module'
import type { Readable } from 'node:stream'
import type MimeTypes from 'mime-types'
import { SNIFF_BYTES, sniffFileType } from './content-sniff.js'
import { ConfigError, DerivativeError } from './errors.js'
import { printable } from './printable.js'

/** Content a derivative function may give: bytes, a Node `Readable` (a `sharp` pipeline is one) or an async iterable of bytes. */
export type DerivativeContent = Uint8Array | Readable | AsyncIterable<Uint8Array>

/** Content with the type to store it as, for output whose bytes do not tell it (text, JSON). */
export interface DerivativeResult {
  content: DerivativeContent
  /** Stored as the derivative's `contentType`; without it the type is told from the first bytes. */
  contentType?: string
}

/** What a derivative function returns for one file: content, or `null`/`undefined` for "none for this file". */
export type DerivativeOutput = DerivativeContent | DerivativeResult | null | undefined

/** What follows an original's key in the keys of its derivatives: `<key>.derivatives/<name>`. */
export const DERIVATIVES_INFIX = '.derivatives/'

// Safe in a key on every backend, and never a special property name (`__proto__`).
const DERIVATIVE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/

const OCTET_STREAM = 'application/octet-stream'

// CommonJS, loaded at run time (see file-object.ts).
const mime = createRequire(import.meta.url)('mime-types') as typeof MimeTypes

/** Whether `name` can name a derivative: a letter or digit, then up to 63 letters, digits, `_` or `-`. */
export function isDerivativeName(name: string): boolean {
  return DERIVATIVE_NAME.test(name)
}

/** The key of the derivative `name` of the object at `originalKey`: `<originalKey>.derivatives/<name>`. */
export function derivativeKey(originalKey: string, name: string): string {
  return `${originalKey}${DERIVATIVES_INFIX}${name}`
}

/**
 * The filename a derivative is stored with (its download name): the original's name without its
 * extension, `-<name>`, and the extension of the derivative's type — `photo.jpg`'s `thumb` in
 * WebP is `photo-thumb.webp`.
 */
export function derivativeFilename(originalFilename: string, name: string, ext: string | undefined): string {
  const dot = originalFilename.lastIndexOf('.')
  const stem = dot > 0 ? originalFilename.slice(0, dot) : originalFilename
  return ext === undefined ? `${stem}-${name}` : `${stem}-${name}.${ext}`
}

/**
 * Throws a `ConfigError` unless `specs` is `undefined` or an object whose every own property is
 * a function with a name {@link isDerivativeName} accepts. `where` names the option for the message.
 */
export function assertDerivativeSpecs(specs: unknown, where: string): void {
  if (specs === undefined) return
  if (specs === null || typeof specs !== 'object' || Array.isArray(specs)) {
    throw new ConfigError(`${where}: "derivatives" must be an object of functions, e.g. { thumb: (source) => ... }; got ${printable(specs)}`)
  }
  for (const [name, generate] of Object.entries(specs)) {
    if (!isDerivativeName(name)) {
      throw new ConfigError(
        `${where}: the derivative name ${JSON.stringify(name)} is not allowed: use a letter or digit, then up to 63 letters, digits, "_" or "-" (it becomes part of the key)`,
      )
    }
    if (typeof generate !== 'function') {
      throw new ConfigError(`${where}: the derivative "${name}" must be a function (source, original) => content; got ${typeof generate}`)
    }
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8')
  throw new TypeError(`it yielded a ${typeof chunk}, expected bytes`)
}

/** What a returned value is, for an error message: a short value as it is, else its kind (never a whole string). */
function described(value: unknown): string {
  if (typeof value === 'string') return `a string of ${value.length} characters`
  if (value !== null && typeof value === 'object') {
    const prototype = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null
    return `an object (${prototype?.constructor?.name ?? 'no prototype'})`
  }
  return printable(value)
}

/** Where a derivative's stream keeps the error it failed with, so the upload's own error can be told from it. */
export interface SourceFailure {
  error?: unknown
}

/** A derivative's output, ready to upload. */
export interface PreparedDerivative {
  body: Buffer | AsyncIterable<Uint8Array>
  contentType: string
  /** The file extension of its type, when known. */
  ext: string | undefined
  /** Set when `body`, a stream, failed while read. */
  failure: SourceFailure
}

/**
 * Reads `source` until `wants` bytes (or its end) are in, so its type can be told before it is
 * uploaded; `body` yields those bytes and then the rest. An error of `source` is kept in
 * `failure` before it is thrown, and leaving `body` early ends `source`.
 */
async function peekHead(source: AsyncIterable<unknown>, wants: number, failure: SourceFailure): Promise<{ head: Buffer; body: AsyncIterable<Uint8Array> }> {
  const iterator = source[Symbol.asyncIterator]()
  const next = async (): Promise<IteratorResult<unknown>> => {
    try {
      return await iterator.next()
    } catch (error) {
      failure.error = error
      throw error
    }
  }
  const held: Uint8Array[] = []
  let size = 0
  let ended = false
  while (size < wants) {
    const step = await next()
    if (step.done === true) {
      ended = true
      break
    }
    const bytes = toBytes(step.value)
    held.push(bytes)
    size += bytes.byteLength
  }
  async function* body(): AsyncGenerator<Uint8Array> {
    let finished = ended
    try {
      yield* held
      while (!finished) {
        const step = await next()
        if (step.done === true) finished = true
        else yield toBytes(step.value)
      }
    } finally {
      // The upload stopped reading (it failed): end the source too, e.g. a sharp pipeline.
      if (!finished) await iterator.return?.()
    }
  }
  return { head: Buffer.concat(held, size), body: body() }
}

/**
 * Turns what the derivative `name`'s function returned into bytes to upload, with their type: the
 * one it gave, else the format `file-type` tells from the first bytes, else
 * `application/octet-stream`. Resolves to `undefined` for `null`/`undefined` (no derivative for
 * this file); throws a `DerivativeError` for anything that is not content.
 */
export async function prepareDerivative(name: string, output: DerivativeOutput, original: { key: string; filename: string }): Promise<PreparedDerivative | undefined> {
  if (output === null || output === undefined) return undefined
  let content: unknown = output
  let contentType: string | undefined
  if (!(output instanceof Uint8Array) && !isAsyncIterable(output) && typeof output === 'object' && 'content' in output) {
    content = output.content
    contentType = output.contentType
    if (contentType !== undefined && (typeof contentType !== 'string' || contentType.length === 0)) {
      throw new DerivativeError(`stowage: the derivative "${name}" of "${original.filename}" gave a contentType that is not a non-empty string`, { derivative: name, path: original.key })
    }
  }
  const failure: SourceFailure = {}
  let body: Buffer | AsyncIterable<Uint8Array>
  let head: Uint8Array
  if (content instanceof Uint8Array) {
    body = Buffer.from(content.buffer, content.byteOffset, content.byteLength)
    head = body.subarray(0, SNIFF_BYTES)
  } else if (isAsyncIterable(content)) {
    try {
      ;({ head, body } = await peekHead(content, contentType === undefined ? SNIFF_BYTES : 0, failure))
    } catch (error) {
      throw new DerivativeError(`stowage: the derivative "${name}" of "${original.filename}" failed: ${(error as Error)?.message ?? printable(error)}`, {
        derivative: name,
        path: original.key,
        cause: error,
      })
    }
  } else {
    throw new DerivativeError(
      `stowage: the derivative "${name}" of "${original.filename}" returned ${described(content)}, not content: return a Buffer, a Uint8Array, a Readable (a sharp pipeline), an async iterable of bytes, { content, contentType }, or null for none`,
      { derivative: name, path: original.key },
    )
  }
  if (contentType !== undefined) return { body, contentType, ext: mime.extension(contentType) || undefined, failure }
  const sniffed = await sniffFileType(head)
  return { body, contentType: sniffed?.mime ?? OCTET_STREAM, ext: sniffed?.ext, failure }
}
