// stowage/fastify against a real Fastify app (with @fastify/multipart) on an ephemeral port, over
// real HTTP, into a real LocalStore.
import { createHash, randomBytes } from 'node:crypto'
import http from 'node:http'
import multipart from '@fastify/multipart'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { directUploadHandler, saveMultipartFile } from '../../src/fastify/index.js'
import { FileValidationError, confirmUpload, prepareUpload } from '../../src/index.js'
import { CHECKED_MAX, CHECKED_TYPES, checkedUploadsSuite, type RefusalWatch } from './checked-uploads.js'
import { PNG_1X1, SECRET, elfBytes, filesOnDisk, localBackend, multipartBody, postForm, request, signal } from './helpers.js'

const PLUGIN_LIMIT = 256 * 1024

describe('stowage/fastify on LocalStore', () => {
  const backend = localBackend('web-fastify')
  let app: FastifyInstance
  let base: string
  /** Where the checked route reports what it refused (see checked-uploads.ts). */
  const watch: RefusalWatch = { refusal: signal() }

  beforeAll(async () => {
    app = Fastify()
    await app.register(multipart, { limits: { fileSize: PLUGIN_LIMIT } })
    app.post('/one', async (request, reply) => {
      try {
        const file = await saveMultipartFile(await request.file(), { backend: 'web-fastify', maxSize: 64 * 1024, keyPrefix: 'in' })
        return file.toJSON()
      } catch (error) {
        if (error instanceof FileValidationError) return reply.code(413).send({ code: error.code })
        throw error
      }
    })
    app.post('/unlimited', async (request, reply) => {
      try {
        return (await saveMultipartFile(await request.file(), { backend: 'web-fastify' })).toJSON()
      } catch (error) {
        if (error instanceof FileValidationError) return reply.code(413).send({ code: error.code })
        throw error
      }
    })
    // maxSize and allowedContentTypes of saveMultipartFile itself; the plugin's own limit is
    // raised for this route (it may be, per request.file() call) so that they are what refuses.
    app.post('/checked', async (request, reply) => {
      try {
        const part = await request.file({ limits: { fileSize: 2 * CHECKED_MAX } })
        const file = await saveMultipartFile(part, { backend: 'web-fastify', keyPrefix: 'checked', maxSize: CHECKED_MAX, allowedContentTypes: CHECKED_TYPES })
        return { key: file.key, json: file.toJSON() }
      } catch (error) {
        watch.refusal.resolve(error)
        if (error instanceof FileValidationError) return reply.code(error.code === 'FILE_TOO_LARGE' ? 413 : 415).send({ code: error.code, name: error.name })
        if ((error as { code?: string }).code === 'INVALID_CONFIG') return reply.code(400).send({ code: 'INVALID_CONFIG' })
        throw error
      }
    })
    app.post('/misconfigured', async (request, reply) => {
      try {
        return await saveMultipartFile(await request.file(), { backend: 'web-fastify', allowedContentTypes: 'image/png' as never })
      } catch (error) {
        return reply.code(400).send({ code: (error as { code?: string }).code })
      }
    })
    app.get('/ping', async () => 'pong')
    app.post('/uploads/direct', directUploadHandler({ secret: SECRET }))
    base = await app.listen({ port: 0, host: '127.0.0.1' })
  })
  afterAll(async () => {
    await app.close()
    backend.cleanup()
  })

  it('saves a part as a FileObject, streamed: bytes, size, checksum, type', async () => {
    const data = randomBytes(50 * 1024 + 3)
    const answer = await postForm(`${base}/one`, multipartBody([{ name: 'file', filename: 'data.csv', contentType: 'text/csv', data }]))
    expect(answer.status).toBe(200)
    const json = answer.json()
    expect(json).toMatchObject({ backend: 'web-fastify', filename: 'data.csv', contentType: 'text/csv', size: data.length })
    expect(json.key).toMatch(/^in\/[0-9a-f-]{36}\/data\.csv$/)
    expect(json.checksum).toBe(`sha256:${createHash('sha256').update(data).digest('hex')}`)
    expect(Buffer.compare(await (await backend.store.get(json.key)).bytes(), data)).toBe(0)
  })

  it('refuses a part over maxSize, and one truncated by the plugin limit: 413, no object left', async () => {
    const before = filesOnDisk(backend.root)
    const over = await postForm(`${base}/one`, multipartBody([{ name: 'file', filename: 'big.bin', contentType: 'application/octet-stream', data: randomBytes(100 * 1024) }]))
    expect(over.status).toBe(413)
    expect(over.json().code).toBe('FILE_TOO_LARGE')
    const truncated = await postForm(`${base}/unlimited`, multipartBody([{ name: 'file', filename: 'big.bin', contentType: 'application/octet-stream', data: randomBytes(PLUGIN_LIMIT * 2) }]))
    expect(truncated.status).toBe(413)
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(filesOnDisk(backend.root)).toEqual(before)
  })

  it('keeps a keep-alive connection usable after a refused part', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const refused = await postForm(`${base}/one`, multipartBody([{ name: 'file', filename: 'big.bin', contentType: 'application/octet-stream', data: randomBytes(4 * 1024 * 1024) }]), agent)
      expect(refused.status).toBe(413)
      const next = await request(`${base}/ping`, { agent, timeoutMs: 5000 })
      expect(next.status).toBe(200)
      expect(next.body.toString()).toBe('pong')
      expect(next.localPort).toBe(refused.localPort)
    } finally {
      agent.destroy()
    }
  })

  checkedUploadsSuite({ base: () => base, backend, watch, parser: '@fastify/multipart' })

  describe('saveMultipartFile options', () => {
    it('options that are not limits are a ConfigError, and the part is still read to its end', async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
      try {
        const answer = await postForm(`${base}/misconfigured`, multipartBody([{ name: 'file', filename: 'photo.png', contentType: 'image/png', data: randomBytes(2 * 1024 * 1024) }]), agent)
        expect(answer.status).toBe(400)
        expect(answer.json().code).toBe('INVALID_CONFIG')
        const next = await request(`${base}/ping`, { agent, timeoutMs: 5000 })
        expect(next.status).toBe(200)
        expect(next.localPort).toBe(answer.localPort)
      } finally {
        agent.destroy()
      }
    })
  })

  it('serves the direct-upload route: stored, confirmed; a spoofed file refused with nothing left', async () => {
    const prepare = () => prepareUpload({
      backend: 'web-fastify', filename: 'photo.png', contentType: 'image/png', maxSize: 1024, expiresIn: 60,
      uploadRoute: `${base}/uploads/direct`, secret: SECRET,
    })
    const ticket = await prepare()
    expect(ticket.url).toBe(`${base}/uploads/direct?token=${ticket.token}`)
    const answer = await postForm(ticket.url, multipartBody([{ name: 'file', filename: 'photo.png', contentType: 'image/png', data: PNG_1X1 }]))
    expect(answer.status).toBe(201)
    const file = await confirmUpload(ticket.token, { allowedContentTypes: ['image/png'], secret: SECRET })
    expect(Buffer.compare(await file.getContent(), PNG_1X1)).toBe(0)

    const spoofed = await prepare()
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const refused = await postForm(spoofed.url, multipartBody([{ name: 'file', filename: 'photo.png', contentType: 'image/png', data: elfBytes(800) }]), agent)
      expect(refused.status).toBe(415)
      expect(refused.json().error.code).toBe('CONTENT_MISMATCH')
      const tooBig = await postForm(spoofed.url, multipartBody([{ name: 'file', filename: 'photo.png', contentType: 'image/png', data: randomBytes(1024 * 1024) }]), agent)
      expect(tooBig.status).toBe(413)
      // Refused before any of the body is read: a token that is not the one prepared.
      const badToken = await postForm(`${spoofed.url}x`, multipartBody([{ name: 'file', filename: 'photo.png', contentType: 'image/png', data: randomBytes(4 * 1024 * 1024) }]), agent)
      expect(badToken.status).toBe(403)
      expect(badToken.json().error.code).toBe('INVALID_TOKEN')
      const next = await request(`${base}/ping`, { agent, timeoutMs: 5000 })
      expect(next.status).toBe(200)
      expect(new Set([refused, tooBig, badToken, next].map((a) => a.localPort)).size).toBe(1) // one connection throughout
    } finally {
      agent.destroy()
    }
    await expect(backend.store.head(spoofed.key)).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })
})
