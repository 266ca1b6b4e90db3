// stowage/multer against a real Express app on an ephemeral port, over real HTTP, into a real
// LocalStore: what arrives, what is refused, what is left on disk, and whether a keep-alive
// connection survives a refusal.
import { createHash, randomBytes } from 'node:crypto'
import http from 'node:http'
import express from 'express'
import multer from 'multer'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { multerStorage, directUploadHandler } from '../../src/multer/index.js'
import { FileValidationError, PENDING_PREFIX, confirmUpload, prepareUpload, sweepUnconfirmed } from '../../src/index.js'
import { CHECKED_MAX, CHECKED_TYPES, checkedUploadsSuite, type RefusalWatch } from './checked-uploads.js'
import { PNG_1X1, SECRET, baseUrl, elfBytes, filesOnDisk, localBackend, multipartBody, postForm, request, signal } from './helpers.js'

const LIMIT = 64 * 1024

describe('stowage/multer on LocalStore', () => {
  const backend = localBackend('web-multer')
  let server: http.Server
  let base: string
  const removed: string[] = []
  /** Where the checked route's storage engine reports what it refused (see checked-uploads.ts). */
  const watch: RefusalWatch = { refusal: signal() }

  beforeAll(async () => {
    const app = express()
    const storage = multerStorage({ backend: 'web-multer', keyPrefix: 'docs' })
    // Records the keys multer asks to remove, then removes them as the engine does.
    const recording = {
      _handleFile: storage._handleFile.bind(storage),
      _removeFile: (req: http.IncomingMessage, file: { key?: string }, cb: (e: Error | null) => void) => {
        if (file.key) removed.push(file.key)
        storage._removeFile(req, file, cb)
      },
    }
    const upload = multer({ storage: recording, limits: { fileSize: LIMIT } })
    app.post('/one', upload.single('file'), (req, res) => {
      const f = req.file!
      res.json({ key: f.key, size: f.size, etag: f.etag, checksum: f.checksum, json: f.fileObject!.toJSON(), field: (req.body as { title?: string }).title })
    })
    app.post('/many', upload.array('files', 5), (req, res) => {
      res.json((req.files as Express.Multer.File[]).map((f) => f.key))
    })
    // The checked route: maxSize and allowedContentTypes of multerStorage itself. The engine's
    // callback is watched, so a test sees the refusal while the request body is still arriving.
    const checkedStorage = multerStorage({ backend: 'web-multer', keyPrefix: 'checked', maxSize: CHECKED_MAX, allowedContentTypes: CHECKED_TYPES })
    const watched = {
      _handleFile: (req: http.IncomingMessage, file: Parameters<typeof checkedStorage._handleFile>[1], cb: (e?: unknown, info?: object) => void) => {
        checkedStorage._handleFile(req, file, (error, info) => {
          if (error) watch.refusal.resolve(error)
          cb(error, info)
        })
      },
      _removeFile: checkedStorage._removeFile.bind(checkedStorage),
    }
    const checked = multer({ storage: watched, limits: { fileSize: 2 * CHECKED_MAX } })
    app.post('/checked', checked.single('file'), (req, res) => {
      res.json({ key: req.file!.key, size: req.file!.size, json: req.file!.fileObject!.toJSON() })
    })
    app.get('/ping', (_req, res) => { res.send('pong') })
    app.post('/uploads/direct', directUploadHandler({ secret: SECRET }))
    app.use((error: { code?: string }, _req: express.Request, res: express.Response, next: express.NextFunction) => {
      void next // Express tells an error handler by its four parameters
      if (error instanceof FileValidationError) {
        res.status(error.code === 'FILE_TOO_LARGE' ? 413 : 415).json({ code: error.code, name: error.name })
        return
      }
      res.status(error.code === 'LIMIT_FILE_SIZE' ? 413 : 500).json({ code: error.code })
    })
    server = http.createServer(app)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = baseUrl(server)
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    backend.cleanup()
  })

  it('streams a file into the store and puts a saved FileObject on req.file', async () => {
    const data = randomBytes(200 * 1024 - 7)
    const answer = await postForm(`${base}/one`, multipartBody([
      { name: 'title', value: 'Q3' },
      { name: 'file', filename: 'report.pdf', contentType: 'application/pdf', data: data.subarray(0, LIMIT - 1) },
    ]))
    expect(answer.status).toBe(200)
    const body = answer.json()
    const bytes = data.subarray(0, LIMIT - 1)
    expect(body.key).toMatch(/^docs\/[0-9a-f-]{36}\/report\.pdf$/)
    expect(body.size).toBe(bytes.length)
    expect(body.checksum).toBe(`sha256:${createHash('sha256').update(bytes).digest('hex')}`)
    expect(body.field).toBe('Q3')
    expect(body.json).toMatchObject({ backend: 'web-multer', key: body.key, filename: 'report.pdf', contentType: 'application/pdf', size: bytes.length })
    expect(typeof body.etag).toBe('string')
    expect(Buffer.compare(await (await backend.store.get(body.key)).bytes(), bytes)).toBe(0)
  })

  it('refuses a file over limits.fileSize while streaming: 413, no object and no staging file on disk', async () => {
    const before = filesOnDisk(backend.root)
    const answer = await postForm(`${base}/one`, multipartBody([
      { name: 'file', filename: 'big.bin', contentType: 'application/octet-stream', data: randomBytes(LIMIT * 4) },
    ]))
    expect(answer.status).toBe(413)
    expect(answer.json().code).toBe('LIMIT_FILE_SIZE')
    // The store's upload is aborted as the request is refused; give the abort a moment to land.
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(filesOnDisk(backend.root)).toEqual(before)
  })

  it('deletes the objects multer removes (_removeFile) when a later file is refused', async () => {
    const before = filesOnDisk(backend.root)
    removed.length = 0
    const answer = await postForm(`${base}/many`, multipartBody([
      { name: 'files', filename: 'a.txt', contentType: 'text/plain', data: Buffer.from('first file') },
      { name: 'files', filename: 'b.bin', contentType: 'application/octet-stream', data: randomBytes(LIMIT + 1) },
    ]))
    expect(answer.status).toBe(413)
    expect(removed).toHaveLength(1)
    expect(removed[0]).toMatch(/\/a\.txt$/)
    await expect(backend.store.head(removed[0]!)).rejects.toMatchObject({ code: 'NOT_FOUND' })
    expect(filesOnDisk(backend.root)).toEqual(before)
  })

  it('keeps a keep-alive connection usable after a refused part (the rest of the body is read)', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const refused = await postForm(`${base}/one`, multipartBody([
        { name: 'file', filename: 'big.bin', contentType: 'application/octet-stream', data: randomBytes(4 * 1024 * 1024) },
      ]), agent)
      expect(refused.status).toBe(413)
      const next = await request(`${base}/ping`, { agent, timeoutMs: 5000 })
      expect(next.status).toBe(200)
      expect(next.body.toString()).toBe('pong')
      expect(next.localPort).toBe(refused.localPort) // the same connection, not a new one
    } finally {
      agent.destroy()
    }
  })

  checkedUploadsSuite({ base: () => base, backend, watch, parser: 'multer' })

  describe('multerStorage options', () => {
    it('refuses options that are not limits with a ConfigError', () => {
      expect(() => multerStorage({ backend: 'web-multer', allowedContentTypes: 'image/png' as never })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
      expect(() => multerStorage({ backend: 'web-multer', maxSize: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
    })
  })

  describe('direct uploads through the route (LocalStore cannot sign)', () => {
    const prepare = (extra: Partial<Parameters<typeof prepareUpload>[0]> = {}) =>
      prepareUpload({
        backend: 'web-multer', filename: 'photo.png', contentType: 'image/png', maxSize: 1024,
        expiresIn: 60, uploadRoute: `${base}/uploads/direct`, secret: SECRET, ...extra,
      })

    it('prepare, POST to the route, confirm: the bytes, a saved FileObject, the marker gone', async () => {
      const ticket = await prepare()
      expect(ticket.method).toBe('POST')
      expect(ticket.url).toBe(`${base}/uploads/direct?token=${ticket.token}`)
      expect(ticket.expiresAt.getTime()).toBeGreaterThan(Date.now() + 55_000)
      const pending = []
      for await (const meta of backend.store.list(PENDING_PREFIX)) pending.push(meta.path)
      expect(pending.length).toBeGreaterThan(0)

      const answer = await postForm(ticket.url, multipartBody([{ name: 'file', filename: 'photo.png', contentType: 'image/png', data: PNG_1X1 }]))
      expect(answer.status).toBe(201)
      expect(answer.json()).toEqual({ key: ticket.key, size: PNG_1X1.length })

      const file = await confirmUpload(ticket.token, { allowedContentTypes: ['image/*'], secret: SECRET })
      expect(file.key).toBe(ticket.key)
      expect(file.toJSON()).toMatchObject({ backend: 'web-multer', filename: 'photo.png', contentType: 'image/png', size: PNG_1X1.length })
      expect(file.checksum).toBe(`sha256:${createHash('sha256').update(PNG_1X1).digest('hex')}`)
      expect(Buffer.compare(await file.getContent(), PNG_1X1)).toBe(0)
      // Once confirmed, the token is used up: neither the route nor confirm take it again.
      await expect(confirmUpload(ticket.token, { secret: SECRET })).rejects.toMatchObject({ code: 'INVALID_TOKEN', reason: 'consumed' })
      const again = await postForm(ticket.url, multipartBody([{ name: 'file', filename: 'photo.png', contentType: 'image/png', data: PNG_1X1 }]))
      expect(again.status).toBe(409)
    })

    it('refuses a tampered token (403, nothing stored) and an expired one', async () => {
      const ticket = await prepare()
      const [v, payload, mac] = ticket.token.split('.')
      const forged = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>
      forged.maxSize = 10 ** 9
      const tampered = `${v}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${mac}`
      const before = filesOnDisk(backend.root)
      const answer = await postForm(`${base}/uploads/direct?token=${tampered}`, multipartBody([{ name: 'file', filename: 'photo.png', contentType: 'image/png', data: PNG_1X1 }]))
      expect(answer.status).toBe(403)
      expect(answer.json().error).toMatchObject({ code: 'INVALID_TOKEN', reason: 'signature' })
      expect(filesOnDisk(backend.root)).toEqual(before)
      await expect(confirmUpload(tampered, { secret: SECRET })).rejects.toMatchObject({ code: 'INVALID_TOKEN', reason: 'signature' })
      await expect(confirmUpload(ticket.token, { secret: `${SECRET}-other` })).rejects.toMatchObject({ code: 'INVALID_TOKEN', reason: 'signature' })
      await expect(confirmUpload('not-a-token', { secret: SECRET })).rejects.toMatchObject({ code: 'INVALID_TOKEN', reason: 'malformed' })

      const short = await prepare({ expiresIn: 1 })
      await new Promise((resolve) => setTimeout(resolve, 1100))
      await expect(confirmUpload(short.token, { secret: SECRET })).rejects.toMatchObject({ code: 'INVALID_TOKEN', reason: 'expired' })
      const late = await postForm(short.url, multipartBody([{ name: 'file', filename: 'photo.png', contentType: 'image/png', data: PNG_1X1 }]))
      expect(late.status).toBe(403)
      expect(late.json().error.reason).toBe('expired')
    })

    it('refuses an executable renamed .png while streaming (415) and, put there by other means, at confirm: deleted', async () => {
      const ticket = await prepare({ maxSize: 64 * 1024 })
      const answer = await postForm(ticket.url, multipartBody([{ name: 'file', filename: 'photo.png', contentType: 'image/png', data: elfBytes() }]))
      expect(answer.status).toBe(415)
      expect(answer.json().error.code).toBe('CONTENT_MISMATCH')
      await expect(backend.store.head(ticket.key)).rejects.toMatchObject({ code: 'NOT_FOUND' })

      // The bytes reach the key some other way: confirm still refuses them, and deletes them.
      await backend.store.put(ticket.key, elfBytes())
      await expect(confirmUpload(ticket.token, { secret: SECRET })).rejects.toMatchObject({ name: 'FileValidationError', code: 'CONTENT_MISMATCH' })
      await expect(backend.store.head(ticket.key)).rejects.toMatchObject({ code: 'NOT_FOUND' })
    })

    it('refuses a file over maxSize at the route (413, no object) and at confirm (FILE_TOO_LARGE, deleted)', async () => {
      const ticket = await prepare({ maxSize: 100 })
      const before = filesOnDisk(backend.root)
      const answer = await postForm(ticket.url, multipartBody([{ name: 'file', filename: 'photo.png', contentType: 'image/png', data: Buffer.concat([PNG_1X1, randomBytes(200)]) }]))
      expect(answer.status).toBe(413)
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(filesOnDisk(backend.root)).toEqual(before)
      await backend.store.put(ticket.key, Buffer.concat([PNG_1X1, randomBytes(200)]))
      await expect(confirmUpload(ticket.token, { secret: SECRET })).rejects.toMatchObject({ code: 'FILE_TOO_LARGE' })
      await expect(backend.store.head(ticket.key)).rejects.toMatchObject({ code: 'NOT_FOUND' })
    })

    it('a refused upload (bad token, spoofed, too large) has its body drained: the next request on the connection completes', async () => {
      const ticket = await prepare({ maxSize: 1024 * 1024 })
      const before = filesOnDisk(backend.root)
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
      try {
        const big = (data: Buffer) => multipartBody([{ name: 'file', filename: 'photo.png', contentType: 'image/png', data }])
        // Refused before the body is read (the token), after its first bytes (the type), past maxSize.
        const answers = [
          await postForm(`${base}/uploads/direct?token=${ticket.token}x`, big(elfBytes(4 * 1024 * 1024)), agent),
          await postForm(ticket.url, big(elfBytes(4 * 1024 * 1024)), agent),
          await postForm(ticket.url, big(Buffer.concat([PNG_1X1, randomBytes(4 * 1024 * 1024)])), agent),
        ]
        expect(answers.map((a) => [a.status, a.json().error.code])).toEqual([[403, 'INVALID_TOKEN'], [415, 'CONTENT_MISMATCH'], [413, 'FILE_TOO_LARGE']])
        const next = await request(`${base}/ping`, { agent, timeoutMs: 5000 })
        expect(next.status).toBe(200)
        expect(new Set([...answers, next].map((a) => a.localPort)).size).toBe(1) // one connection throughout
      } finally {
        agent.destroy()
      }
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(filesOnDisk(backend.root)).toEqual(before)
    })

    it('sweeps what was prepared and never confirmed, whether its bytes arrived or not', async () => {
      const never = await prepare()
      const arrived = await prepare()
      expect((await postForm(arrived.url, multipartBody([{ name: 'file', filename: 'photo.png', contentType: 'image/png', data: PNG_1X1 }]))).status).toBe(201)
      const kept = await prepare()
      expect((await postForm(kept.url, multipartBody([{ name: 'file', filename: 'photo.png', contentType: 'image/png', data: PNG_1X1 }]))).status).toBe(201)
      await confirmUpload(kept.token, { secret: SECRET })

      expect((await sweepUnconfirmed({ backend: 'web-multer', olderThan: 60_000 })).removed).toEqual([])
      const { removed: swept } = await sweepUnconfirmed({ backend: 'web-multer', olderThan: 0 })
      expect(swept).toEqual(expect.arrayContaining([never.key, arrived.key]))
      expect(swept).not.toContain(kept.key)
      await expect(backend.store.head(arrived.key)).rejects.toMatchObject({ code: 'NOT_FOUND' })
      expect((await backend.store.head(kept.key)).size).toBe(PNG_1X1.length)
      const left = []
      for await (const meta of backend.store.list(PENDING_PREFIX)) left.push(meta.path)
      expect(left).toEqual([])
      await expect(confirmUpload(arrived.token, { secret: SECRET })).rejects.toMatchObject({ code: 'INVALID_TOKEN', reason: 'consumed' })
    })

    it('without uploadRoute, or without a secret, prepareUpload is a ConfigError naming what is missing', async () => {
      const noRoute = await prepare({ uploadRoute: undefined }).catch((e: Error) => e)
      expect(noRoute).toMatchObject({ code: 'INVALID_CONFIG' })
      expect((noRoute as Error).message).toContain('uploadRoute')
      const saved = process.env.STOWAGE_UPLOAD_SECRET
      delete process.env.STOWAGE_UPLOAD_SECRET
      try {
        const noSecret = await prepare({ secret: undefined }).catch((e: Error) => e)
        expect(noSecret).toMatchObject({ code: 'INVALID_CONFIG' })
        expect((noSecret as Error).message).toContain('STOWAGE_UPLOAD_SECRET')
        const error = await prepare({ secret: 'short-secret-value' }).catch((e: Error) => e)
        expect(error).toMatchObject({ code: 'INVALID_CONFIG' })
        expect((error as Error).message).not.toContain('short-secret-value')
      } finally {
        if (saved !== undefined) process.env.STOWAGE_UPLOAD_SECRET = saved
      }
    })
  })
})
