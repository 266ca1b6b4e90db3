// stowage/fastify against a real Fastify app (with @fastify/multipart) on an ephemeral port, over
// real HTTP, into a real LocalStore.
import { createHash, randomBytes } from 'node:crypto'
import http from 'node:http'
import multipart from '@fastify/multipart'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { directUploadHandler, saveMultipartFile } from '../../src/fastify/index.js'
import { FileValidationError, confirmUpload, prepareUpload } from '../../src/index.js'
import { PNG_1X1, SECRET, elfBytes, filesOnDisk, localBackend, multipartBody, postForm, request } from './helpers.js'

const PLUGIN_LIMIT = 256 * 1024

describe('stowage/fastify on LocalStore', () => {
  const backend = localBackend('web-fastify')
  let app: FastifyInstance
  let base: string

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
      expect((await request(`${base}/ping`, { agent, timeoutMs: 5000 })).status).toBe(200)
    } finally {
      agent.destroy()
    }
    await expect(backend.store.head(spoofed.key)).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })
})
