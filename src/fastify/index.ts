/**
 * stowage/fastify: saving `@fastify/multipart` parts as `FileObject`s, streamed straight into a
 * store, and the Fastify handler of the direct-upload route for stores that cannot sign.
 *
 * ```ts
 * import multipart from '@fastify/multipart'
 * import { saveMultipartFile, directUploadHandler } from 'stowage/fastify'
 * await app.register(multipart, { limits: { fileSize: 10 << 20 } })
 * app.post('/documents', async (request) => {
 *   const file = await saveMultipartFile(await request.file(), { backend: 'uploads' })
 * })
 * app.post('/uploads/direct', directUploadHandler())
 * ```
 */
import type { IncomingMessage } from 'node:http'
import type { Readable } from 'node:stream'
import { checkUploadLimits } from '../arguments.js'
import { ConfigError } from '../errors.js'
import type { FileObject } from '../file-object.js'
import { openRouteUpload, receiveRouteUpload, type DirectUploadHandlerOptions, type DirectUploadReceipt } from '../web/direct-route.js'
import { discardBody, httpRefusal, tokenOfUrl } from '../web/http-refusal.js'
import { saveFilePart, type FilePartLimits } from '../web/stream-save.js'

export type { DirectUploadHandlerOptions, DirectUploadReceipt } from '../web/direct-route.js'

/**
 * The part of a `@fastify/multipart` file (`MultipartFile`) that saving reads, written out so
 * that these types need neither Fastify's nor the plugin's.
 */
export interface MultipartFilePart {
  /** The filename the browser sent. */
  filename: string
  /** The type the browser declared. */
  mimetype: string
  /** The bytes (busboy's file stream, `truncated` once the plugin's `fileSize` limit was hit). */
  file: Readable & { truncated?: boolean }
  /** The form field's name. */
  fieldname?: string
}

/** The part of a Fastify request the route handler reads (`FastifyRequest` with `@fastify/multipart`). */
export interface DirectUploadRequest {
  url: string
  raw: IncomingMessage
}

/** The part of a Fastify reply the route handler uses (`FastifyReply`). */
export interface DirectUploadReply {
  code(statusCode: number): DirectUploadReply
  send(payload?: unknown): DirectUploadReply
}

/**
 * Options of {@link saveMultipartFile}: where the file goes, and the limits it is checked against
 * while it streams (`maxSize` in addition to the plugin's `limits.fileSize`;
 * `allowedContentTypes` against the declared type and the first bytes).
 */
export interface SaveMultipartFileOptions extends FilePartLimits {
  /** The registered store's name (`storages.register`). */
  backend: string
  /** The object's key; defaults to `<keyPrefix>/<uuid>/<sanitized filename>`. */
  key?: string
  /** A prefix for the default key. */
  keyPrefix?: string
}

/**
 * Saves one `@fastify/multipart` file part (`await request.file()`, or a part of
 * `request.parts()`) as a new `FileObject`, streamed into the store: never to disk, never whole
 * in memory. A part over `maxSize`, or truncated by the plugin's `limits.fileSize`, is refused
 * with a `FileValidationError` (`FILE_TOO_LARGE`); one whose declared type or first bytes break
 * `allowedContentTypes` with `CONTENT_TYPE_NOT_ALLOWED` or `CONTENT_MISMATCH`. A refused part's
 * upload is aborted (no object stays), and the rest of the part is read and discarded so the
 * request (and its connection) finishes.
 */
export async function saveMultipartFile(part: MultipartFilePart | undefined, options: SaveMultipartFileOptions): Promise<FileObject> {
  if (part === undefined || part === null || typeof part !== 'object' || part.file === undefined) {
    throw new ConfigError('saveMultipartFile() needs a file part (the request has none, or it is not multipart/form-data)')
  }
  let limits: FilePartLimits
  try {
    if (options === null || typeof options !== 'object' || typeof options.backend !== 'string' || options.backend === '') {
      throw new ConfigError('saveMultipartFile() needs { backend }: the name of a registered store')
    }
    limits = checkUploadLimits(options, 'saveMultipartFile()')
  } catch (error) {
    // The part is read to its end all the same, so the request finishes.
    part.file.resume()
    throw error
  }
  const { backend, key, keyPrefix } = options
  return saveFilePart(
    { stream: part.file, filename: part.filename, contentType: part.mimetype },
    { backend, ...limits, ...(key === undefined ? {} : { key }), ...(keyPrefix === undefined ? {} : { keyPrefix }) },
  )
}

type MultipartRequest = DirectUploadRequest & {
  file?: (options?: { limits?: { fileSize?: number; files?: number; fields?: number; parts?: number } }) => Promise<MultipartFilePart | undefined>
}

/**
 * The Fastify handler of the direct-upload route, for stores that cannot sign: register
 * `@fastify/multipart`, then `app.post('/uploads/direct', directUploadHandler())` where
 * `prepareUpload`'s `uploadRoute` points (the URL carries the token as its `token` query parameter). It takes one file
 * field named `file`, saves it under the token's key with the token's `maxSize` enforced and its
 * first bytes checked against its type while they arrive, and answers 201 `{ key, size }`; a
 * refusal answers 403 (bad or expired token), 409 (already used), 413 (too large), 415 (type) or
 * 400, with `{ error: { code, message } }`, and nothing stored. The app still calls
 * `confirmUpload(token)` before a row points at the object.
 */
export function directUploadHandler(options: DirectUploadHandlerOptions = {}) {
  return async function stowageDirectUpload(request: DirectUploadRequest, reply: DirectUploadReply): Promise<DirectUploadReceipt | DirectUploadReply> {
    const req = request as MultipartRequest
    const refuse = (error: unknown) => {
      discardBody(request.raw)
      const { status, body } = httpRefusal(error)
      return reply.code(status).send(body)
    }
    try {
      const opened = await openRouteUpload(tokenOfUrl(request.url), options)
      if (typeof req.file !== 'function') {
        throw new ConfigError('directUploadHandler() of stowage/fastify needs @fastify/multipart registered on this app')
      }
      const part = await req.file({ limits: { fileSize: opened.payload.maxSize, files: 1, fields: 20, parts: 21 } })
      if (part === undefined || part.fieldname !== 'file') {
        if (part !== undefined) part.file.resume()
        throw new ConfigError('the upload has no file field named "file"')
      }
      const stored = await receiveRouteUpload(opened, { stream: part.file, filename: part.filename, contentType: part.mimetype })
      reply.code(201)
      return { key: stored.key, size: stored.size! }
    } catch (error) {
      return refuse(error)
    }
  }
}
