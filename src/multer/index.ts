/**
 * stowage/multer: a multer storage engine that streams each file straight into a store, and the
 * Express handler of the direct-upload route for stores that cannot sign.
 *
 * ```ts
 * import multer from 'multer'
 * import { multerStorage, directUploadHandler } from 'stowage/multer'
 * const upload = multer({ storage: multerStorage({ backend: 'uploads' }), limits: { fileSize: 10 << 20 } })
 * app.post('/documents', upload.single('file'), (req, res) => { req.file.fileObject ... })
 * app.post('/uploads/direct', directUploadHandler())
 * ```
 */
import { createRequire } from 'node:module'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import { checkUploadLimits } from '../arguments.js'
import { ConfigError } from '../errors.js'
import type { FileObject } from '../file-object.js'
import { openRouteUpload, receiveRouteUpload, type DirectUploadHandlerOptions, type OpenedRouteUpload } from '../web/direct-route.js'
import { discardBody, httpRefusal, tokenOfUrl } from '../web/http-refusal.js'
import { saveFilePart, type FilePartLimits, type StreamSaveOptions } from '../web/stream-save.js'

export type { DirectUploadHandlerOptions, DirectUploadReceipt } from '../web/direct-route.js'

/** What multer hands a storage engine for one file (a subset of `Express.Multer.File`). */
export interface MulterIncomingFile {
  fieldname: string
  originalname: string
  encoding: string
  mimetype: string
  stream: Readable
}

/** What {@link multerStorage} adds to `req.file` (and each of `req.files`). */
export interface StoredMulterFile {
  /** The saved `FileObject`: assign it to a `@StoredObjectColumn`. */
  fileObject: FileObject
  /** The object's key. */
  key: string
  /** Bytes stored. */
  size: number
  /** The store's etag. */
  etag?: string
  /** `sha256:<hex>` of the bytes. */
  checksum: string
  /** The registered store's name. */
  backend: string
}

/**
 * Options of {@link multerStorage}: where files go, and the limits they are checked against
 * while they stream (`maxSize` in addition to multer's own `limits.fileSize`;
 * `allowedContentTypes` against the declared type and the first bytes).
 */
export interface MulterStorageOptions extends FilePartLimits {
  /** The registered store's name (`storages.register`). */
  backend: string
  /** A prefix for the default keys (`<keyPrefix>/<uuid>/<sanitized filename>`). */
  keyPrefix?: string
  /** Picks the key of each file in place of the default. */
  key?: (req: IncomingMessage, file: MulterIncomingFile) => string | Promise<string>
}

/**
 * The storage engine interface multer calls (`multer.StorageEngine`), written out so that these
 * types need neither multer's nor Express's.
 */
export interface StowageStorageEngine {
  _handleFile(req: IncomingMessage, file: MulterIncomingFile, callback: (error?: unknown, info?: Partial<StoredMulterFile>) => void): void
  _removeFile(req: IncomingMessage, file: Partial<StoredMulterFile>, callback: (error: Error | null) => void): void
}

declare global {
  // What multerStorage adds to multer's `req.file` (@types/multer declares the rest).
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    // eslint-disable-next-line @typescript-eslint/no-namespace
    namespace Multer {
      // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- merges into @types/multer's File
      interface File extends Partial<StoredMulterFile> {}
    }
  }
}

/** The part of multer's module the route handler uses. */
type MulterFactory = (options: { storage: StowageStorageEngine; limits: Record<string, number> }) => {
  single(field: string): (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void
}

function info(file: FileObject): StoredMulterFile {
  return {
    fileObject: file,
    key: file.key,
    size: file.size!,
    ...(file.etag === undefined ? {} : { etag: file.etag }),
    checksum: file.checksum!,
    backend: file.backend,
  }
}

function engine(save: (req: IncomingMessage, file: MulterIncomingFile) => Promise<FileObject>): StowageStorageEngine {
  return {
    _handleFile(req, file, callback) {
      save(req, file).then((saved) => callback(null, info(saved)), (error: unknown) => callback(error))
    },
    _removeFile(_req, file, callback) {
      if (file.fileObject === undefined) return callback(null)
      file.fileObject.delete().then(() => callback(null), (error: Error) => callback(error))
    },
  }
}

/**
 * A multer storage engine that streams each file into the store registered as `backend`: never
 * to disk, never whole in memory. `req.file` gets `fileObject` (a saved `FileObject`), `key`,
 * `size`, `etag` and `checksum`. A file over multer's `limits.fileSize` aborts its upload, so no
 * object is left, and multer answers `LIMIT_FILE_SIZE`; one over `maxSize`, or whose declared
 * type or first bytes break `allowedContentTypes`, is refused the same way with a
 * `FileValidationError` (`FILE_TOO_LARGE`, `CONTENT_TYPE_NOT_ALLOWED`, `CONTENT_MISMATCH`), which
 * multer passes to `next`. When multer removes files (a later part failed), `_removeFile`
 * deletes their objects.
 */
export function multerStorage(options: MulterStorageOptions): StowageStorageEngine {
  if (options === null || typeof options !== 'object' || typeof options.backend !== 'string' || options.backend === '') {
    throw new ConfigError('multerStorage() needs { backend }: the name of a registered store')
  }
  const { backend, keyPrefix, key } = options
  const limits = checkUploadLimits(options, 'multerStorage()')
  return engine(async (req, file) => {
    const saveOptions: StreamSaveOptions = { backend, ...limits, ...(keyPrefix === undefined ? {} : { keyPrefix }) }
    if (key !== undefined) saveOptions.key = await key(req, file)
    return saveFilePart({ stream: file.stream, filename: file.originalname, contentType: file.mimetype }, saveOptions)
  })
}

type ExpressLikeResponse = ServerResponse & { status?: (code: number) => unknown; json?: (body: unknown) => unknown }

function send(res: ExpressLikeResponse, status: number, body: unknown): void {
  if (res.headersSent) return
  res.statusCode = status
  res.setHeader('Content-Type', 'application/json; charset=utf-8')
  res.end(JSON.stringify(body))
}

function refuse(req: IncomingMessage, res: ExpressLikeResponse, error: unknown): void {
  discardBody(req)
  const { status, body } = httpRefusal(error)
  send(res, status, body)
}

// Loaded when a handler is made, not when stowage/multer is: the storage engine needs no multer.
function loadMulter(): MulterFactory {
  try {
    return createRequire(import.meta.url)('multer') as MulterFactory
  } catch (error) {
    throw new ConfigError('directUploadHandler() of stowage/multer needs the multer package: npm install multer', { cause: error })
  }
}

/**
 * The Express (or plain `node:http`) handler of the direct-upload route, for stores that cannot
 * sign: mount it where `prepareUpload`'s `uploadRoute` points
 * (`app.post('/uploads/direct', directUploadHandler())`); the URL carries the token as its
 * `token` query parameter (or, on a route mounted as `/uploads/direct/:token`, as its last path
 * segment). It takes one
 * `multipart/form-data` file field named `file`, saves it under the token's key with the token's
 * `maxSize` enforced and its first bytes checked against its type while they arrive, and answers
 * 201 `{ key, size }`; a refusal answers 403 (bad or expired token), 409 (already used),
 * 413 (too large), 415 (type) or 400, with `{ error: { code, message } }`, and nothing stored.
 * The app still calls `confirmUpload(token)` before a row points at the object.
 */
export function directUploadHandler(options: DirectUploadHandlerOptions = {}) {
  const multer = loadMulter()
  return function stowageDirectUpload(req: IncomingMessage & { file?: unknown }, res: ExpressLikeResponse): void {
    const token = tokenOfUrl((req as { originalUrl?: string }).originalUrl ?? req.url)
    openRouteUpload(token, options).then(
      (opened: OpenedRouteUpload) => {
        let stored: FileObject | undefined
        const storage = engine(async (_req, file) => {
          stored = await receiveRouteUpload(opened, { stream: file.stream, filename: file.originalname, contentType: file.mimetype })
          return stored
        })
        const limits = { fileSize: opened.payload.maxSize, files: 1, fields: 20, parts: 21 }
        multer({ storage, limits }).single('file')(req, res, (error?: unknown) => {
          if (error !== undefined && error !== null) return refuse(req, res, error)
          if (stored === undefined) return refuse(req, res, new ConfigError('the upload has no file field named "file"'))
          send(res, 201, { key: stored.key, size: stored.size })
        })
      },
      (error: unknown) => refuse(req, res, error),
    )
  }
}
