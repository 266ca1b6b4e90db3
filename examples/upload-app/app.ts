import 'reflect-metadata'
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import express, { type NextFunction, type Request, type Response } from 'express'
import multer from 'multer'
import {
  FileValidationError,
  StorageError,
  UPLOAD_SECRET_ENV,
  confirmUpload,
  prepareUpload,
  storages,
  sweepUnconfirmed,
  type FileObject,
  type ObjectStore,
} from 'stowage'
import { directUploadHandler, multerStorage } from 'stowage/multer'
import { StoredObjectDataSource } from 'stowage/typeorm'
import type { Repository } from 'typeorm'
import { ALLOWED_CONTENT_TYPES, DOCUMENTS_BACKEND, Document, MAX_FILE_SIZE } from './entities.js'

/** Where the page's HTML and script are; next to this module, whether run from source or built. */
const PUBLIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'public')

/** How long a direct-upload ticket (its URL and its token) stays valid. */
const TICKET_LIFETIME_SECONDS = 15 * 60

/** Where LocalStore's direct uploads go (with `?token=`), as the store cannot sign a URL. */
const UPLOAD_ROUTE = '/api/direct-upload'

/** Options of {@link startApp}. */
export interface AppOptions {
  /** The store the documents' files go to; registered as `documents` (replacing any other). */
  store: ObjectStore
  /** What the page says the store is, e.g. `LocalStore` or `S3 (s3-mem-server)`. */
  storeLabel?: string
  /** TCP port; 0 (the default) picks a free one. */
  port?: number
  /** Interface to listen on (default 127.0.0.1). */
  host?: string
  /** SQLite file (sql.js, saved after every change); without it the database is in memory. */
  databasePath?: string
  /** Runs `sweepUnconfirmed` this often (ms) for tickets older than their lifetime; 0 = never. */
  sweepIntervalMs?: number
  /**
   * Signs the direct-upload tokens (at least 32 bytes). Default: `STOWAGE_UPLOAD_SECRET`, else
   * one made at random for this process (tokens then do not outlive it, nor work on another).
   */
  uploadSecret?: string
}

/** A started app. */
export interface RunningApp {
  /** Its base URL, e.g. `http://127.0.0.1:43117`. */
  url: string
  /** The app's database connection. */
  dataSource: StoredObjectDataSource
  /** The documents table. */
  documents: Repository<Document>
  /** Removes direct uploads prepared more than `olderThan` ms ago and never confirmed. */
  sweep(olderThan: number): Promise<{ removed: string[] }>
  /** Stops the HTTP server, the sweeper and the database connection. */
  close(): Promise<void>
}

/** A document as the page sees it. */
interface DocumentView {
  id: number
  title: string
  filename: string | undefined
  size: number | undefined
  contentType: string | undefined
  key: string
  downloadUrl: string
  updatedAt: string
}

/** A refusal the page shows: an HTTP status, a code and a message. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/**
 * Starts the upload app: an Express server with a page that uploads files through the server
 * (multer streaming into the store) or directly to the store (prepareUpload → the browser sends
 * the bytes → confirmUpload), lists the documents with download links that keep the original
 * filename, and replaces and deletes them. Resolves once it listens.
 */
export async function startApp(options: AppOptions): Promise<RunningApp> {
  const { store, port = 0, host = '127.0.0.1', sweepIntervalMs = 0 } = options
  const secret = options.uploadSecret ?? (process.env[UPLOAD_SECRET_ENV] || randomBytes(32).toString('base64url'))
  storages.register(DOCUMENTS_BACKEND, store, { replace: true })
  const storeLabel = options.storeLabel ?? store.constructor.name
  // A store that signs URLs gets them for downloads; one that cannot (LocalStore) is served here.
  const signs = store.capabilities.sign

  const dataSource = new StoredObjectDataSource({
    type: 'sqljs',
    ...(options.databasePath ? { location: options.databasePath, autoSave: true } : {}),
    entities: [Document],
    synchronize: true,
  })
  await dataSource.initialize()
  const documents = dataSource.getRepository(Document)

  const upload = multer({
    // The same checks as confirmUpload makes of a direct upload, made while the part streams:
    // the size, and the declared type and the first bytes against the allowed types, so an
    // executable renamed .png is refused before any of it is stored.
    storage: multerStorage({
      backend: DOCUMENTS_BACKEND,
      keyPrefix: 'documents',
      maxSize: MAX_FILE_SIZE,
      allowedContentTypes: ALLOWED_CONTENT_TYPES,
    }),
    limits: { fileSize: MAX_FILE_SIZE, files: 1, fields: 10 },
    // browsers send the filename's UTF-8 bytes as they are; multer's default reads them as latin1
    defParamCharset: 'utf8',
  })

  async function view(doc: Document): Promise<DocumentView> {
    return {
      id: doc.id,
      title: doc.title,
      filename: doc.file.filename,
      size: doc.file.size,
      contentType: doc.file.contentType,
      key: doc.file.key,
      // signUrl() sends `attachment` with the original filename (RFC 6266 / 5987)
      downloadUrl: signs ? await doc.file.signUrl({ expiresIn: 600 }) : `/documents/${doc.id}/download`,
      updatedAt: doc.updatedAt.toISOString(),
    }
  }

  async function findDocument(id: string | string[] | undefined): Promise<Document> {
    const doc = await documents.findOneBy({ id: Number(id) })
    if (!doc) throw new HttpError(404, 'NOT_FOUND', `no document ${String(id)}`)
    return doc
  }

  /** Writes the row pointing at an already stored file; the file goes if the row cannot be written. */
  async function saveWithFile(doc: Document, file: FileObject): Promise<Document> {
    doc.file = file
    try {
      return await documents.save(doc)
    } catch (error) {
      await file.delete().catch(() => {})
      throw error
    }
  }

  function uploadedFile(req: Request): FileObject {
    // multerStorage puts the saved FileObject on req.file (its types extend multer's)
    const file = req.file?.fileObject
    if (!file) throw new HttpError(400, 'NO_FILE', 'the form has no "file" part')
    return file
  }

  function titleOf(body: unknown, fallback: string | undefined): string {
    const title = (body as { title?: unknown } | undefined)?.title
    return (typeof title === 'string' && title.trim() ? title.trim() : fallback ?? 'Untitled').slice(0, 200)
  }

  const app = express()
  app.disable('x-powered-by')
  app.use(express.static(PUBLIC_DIR))

  app.get('/api/config', (_req, res) => {
    res.json({ store: storeLabel, signs, maxSize: MAX_FILE_SIZE, allowedContentTypes: ALLOWED_CONTENT_TYPES })
  })

  app.get('/api/documents', async (_req, res) => {
    const rows = await documents.find({ order: { id: 'ASC' } })
    res.json(await Promise.all(rows.map(view)))
  })

  // Through the server: multer streams the part straight into the store (never to disk) and
  // aborts it past the size limit, or when its type or first bytes are not allowed, leaving
  // nothing behind.
  app.post('/api/documents', upload.single('file'), async (req, res) => {
    const file = uploadedFile(req)
    const doc = await saveWithFile(Object.assign(new Document(), { title: titleOf(req.body, file.filename) }), file)
    res.status(201).json(await view(doc))
  })

  app.put('/api/documents/:id/file', upload.single('file'), async (req, res) => {
    const file = uploadedFile(req)
    const doc = await findDocument(req.params.id).catch(async (error: unknown) => {
      await file.delete().catch(() => {})
      throw error
    })
    res.json(await view(await saveWithFile(doc, file)))
  })

  // Directly to the store, step 1: a ticket saying where and how the browser sends the bytes.
  app.post('/api/uploads', express.json(), async (req, res) => {
    const { filename, contentType, size } = req.body as { filename?: unknown; contentType?: unknown; size?: unknown }
    if (typeof filename !== 'string' || !filename) throw new HttpError(400, 'BAD_REQUEST', 'filename is required')
    const ticket = await prepareUpload({
      backend: DOCUMENTS_BACKEND,
      filename,
      contentType: typeof contentType === 'string' && contentType ? contentType : 'application/octet-stream',
      maxSize: MAX_FILE_SIZE,
      ...(typeof size === 'number' ? { size } : {}),
      expiresIn: TICKET_LIFETIME_SECONDS,
      uploadRoute: UPLOAD_ROUTE,
      secret,
    })
    res.status(201).json(ticket)
  })

  // ...where LocalStore's tickets point: the handler checks the token and streams the part into
  // the store with the token's limits (size, and the first bytes against the declared type).
  app.post(UPLOAD_ROUTE, directUploadHandler({ secret }))

  // Step 3: the browser says it is done; confirmUpload checks what arrived before a row points at it.
  async function confirmed(body: unknown): Promise<FileObject> {
    const token = (body as { token?: unknown } | undefined)?.token
    if (typeof token !== 'string') throw new HttpError(400, 'BAD_REQUEST', 'token is required')
    return confirmUpload(token, { allowedContentTypes: ALLOWED_CONTENT_TYPES, maxSize: MAX_FILE_SIZE, secret })
  }

  app.post('/api/documents/direct', express.json(), async (req, res) => {
    const file = await confirmed(req.body)
    const doc = await saveWithFile(Object.assign(new Document(), { title: titleOf(req.body, file.filename) }), file)
    res.status(201).json(await view(doc))
  })

  app.put('/api/documents/:id/direct', express.json(), async (req, res) => {
    const doc = await findDocument(req.params.id)
    res.json(await view(await saveWithFile(doc, await confirmed(req.body))))
  })

  app.delete('/api/documents/:id', async (req, res) => {
    // remove() deletes the row, then (after the commit) its object
    await documents.remove(await findDocument(req.params.id))
    res.status(204).end()
  })

  // LocalStore's download link: the bytes with the original filename, never rendered inline.
  app.get('/documents/:id/download', async (req, res) => {
    const doc = await findDocument(req.params.id)
    const meta = await doc.file.store.head(doc.file.key)
    res.attachment(doc.file.filename ?? doc.file.key.split('/').pop())
    res.type(doc.file.contentType ?? 'application/octet-stream')
    res.set({ 'Content-Length': String(meta.size), 'X-Content-Type-Options': 'nosniff' })
    const body = doc.file.stream()
    body.on('error', (error) => res.destroy(error))
    body.pipe(res)
  })

  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(error)
      return
    }
    const [status, code] = refusal(error)
    if (status >= 500) console.error(error)
    // the shape directUploadHandler answers with, so the page reads every refusal alike
    res.status(status).json({ error: { code, message: error instanceof Error ? error.message : String(error) } })
  })

  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(listening)))
  })
  const { port: bound } = server.address() as AddressInfo

  const sweep = (olderThan: number) => sweepUnconfirmed({ backend: DOCUMENTS_BACKEND, olderThan })
  const sweeper = sweepIntervalMs > 0
    ? setInterval(() => void sweep(TICKET_LIFETIME_SECONDS * 1000).catch((error: unknown) => console.error('sweepUnconfirmed:', error)), sweepIntervalMs)
    : undefined
  sweeper?.unref()

  return {
    url: `http://${host}:${bound}`,
    dataSource,
    documents,
    sweep,
    async close() {
      clearInterval(sweeper)
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await dataSource.destroy()
    },
  }
}

/** The HTTP status and code of a refused request (the statuses directUploadHandler answers with). */
function refusal(error: unknown): [number, string] {
  if (error instanceof HttpError) return [error.status, error.code]
  if (error instanceof FileValidationError) return [error.code === 'FILE_TOO_LARGE' ? 413 : 415, error.code]
  if (error instanceof multer.MulterError) {
    return error.code === 'LIMIT_FILE_SIZE' ? [413, 'FILE_TOO_LARGE'] : [400, error.code]
  }
  if (error instanceof StorageError) {
    // a token tampered with, expired or used; nothing uploaded for it; a bad request
    const status = { INVALID_TOKEN: 403, NOT_FOUND: 404, INVALID_CONFIG: 400, INVALID_PATH: 400 }[error.code as string]
    return [status ?? 502, error.code]
  }
  return [500, 'INTERNAL']
}
