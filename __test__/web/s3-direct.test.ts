// Direct uploads on S3, the way a browser does them (fetch, FormData), against s3-mem-server (it
// verifies SigV4, POST policies and their content-length-range) and moto (behaviour only, no
// signature checks): presigned POST and PUT, presigned multipart, confirm, sweep, and download
// links that keep the filename.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  FileObject, abortMultipartUpload, completeMultipartUpload, confirmUpload, prepareMultipartUpload, prepareUpload,
  signUploadPart, storages, sweepUnconfirmed, type PreparedUpload, type S3Store,
} from '../../src/index.js'
import { makeS3, pendingUploads, refusalOf, uniquePrefix, useServers } from '../cloud/helpers.js'
import { PNG_1X1, SECRET, elfBytes } from './helpers.js'

const servers = useServers(['s3mem', 's3moto'])
const MiB = 1024 * 1024

/** A copy of `bytes` that fetch and Blob take as a body. */
const body = (bytes: Buffer): Uint8Array<ArrayBuffer> => new Uint8Array(bytes)

/** Sends `bytes` the way `ticket` says, as a browser would. */
function send(ticket: PreparedUpload, bytes: Buffer, type: string): Promise<Response> {
  if (ticket.method === 'PUT') return fetch(ticket.url, { method: 'PUT', body: body(bytes), headers: ticket.headers })
  const form = new FormData()
  for (const [name, value] of Object.entries(ticket.fields ?? {})) form.append(name, value)
  form.append('file', new Blob([body(bytes)], { type }), 'upload')
  return fetch(ticket.url, { method: 'POST', body: form })
}

async function exists(store: S3Store, key: string): Promise<boolean> {
  return store.head(key).then(() => true, (error: { code?: string }) => {
    if (error.code === 'NOT_FOUND') return false
    throw error
  })
}

for (const [kind, label, verifies] of [['s3mem', 's3-mem-server', true], ['s3moto', 'moto', false]] as const) {
  describe(`direct uploads on S3 (${label})`, () => {
    const backend = `web-s3-${kind}`
    let store: S3Store
    let prefix: string
    beforeAll(() => {
      prefix = uniquePrefix('direct')
      store = makeS3(servers()[kind]!, { prefix })
      storages.register(backend, store, { replace: true })
    })
    afterAll(() => { storages.unregister(backend) })

    const prepare = (extra: Partial<Parameters<typeof prepareUpload>[0]> = {}) =>
      prepareUpload({ backend, filename: 'photo.png', contentType: 'image/png', maxSize: 64 * 1024, expiresIn: 300, secret: SECRET, ...extra })

    it('a presigned POST (no size given): the browser posts the form, confirm gives the FileObject', async () => {
      const ticket = await prepare()
      expect(ticket.method).toBe('POST')
      expect(Object.keys(ticket.fields ?? {})).toEqual(expect.arrayContaining(['key', 'policy', 'Content-Type']))
      const res = await send(ticket, PNG_1X1, 'image/png')
      expect(res.status).toBeLessThan(300)
      const file = await confirmUpload(ticket.token, { allowedContentTypes: ['image/*'], secret: SECRET })
      expect(file.toJSON()).toMatchObject({ backend, key: ticket.key, filename: 'photo.png', contentType: 'image/png', size: PNG_1X1.length })
      expect((await file.getContent()).equals(PNG_1X1)).toBe(true)
    })

    it('a file over maxSize is refused by the POST policy (s3-mem-server) or at confirm, and no object stays', async () => {
      const ticket = await prepare({ maxSize: 1024 })
      const sent = send(ticket, Buffer.concat([PNG_1X1, randomBytes(4096)]), 'image/png')
      if (verifies) {
        // The server refuses from the policy before it reads the body; it may answer (400
        // EntityTooLarge) or close the connection while the body is still being written (EPIPE
        // or ECONNRESET in fetch), as S3 itself may. Either is the store's refusal.
        expect(await refusalOf(sent)).toMatch(/^(400 [^]*EntityTooLarge|connection (EPIPE|ECONNRESET))/)
        expect(await exists(store, ticket.key)).toBe(false)
      } else {
        expect((await sent).status).toBeLessThan(300)
        await expect(confirmUpload(ticket.token, { secret: SECRET })).rejects.toMatchObject({ code: 'FILE_TOO_LARGE' })
        expect(await exists(store, ticket.key)).toBe(false)
      }
    })

    it('with the exact size: a presigned PUT with type and length signed', async () => {
      const ticket = await prepare({ size: PNG_1X1.length })
      expect(ticket.method).toBe('PUT')
      expect(ticket.headers).toEqual({ 'Content-Type': 'image/png' })
      if (verifies) {
        const longer = await send(ticket, Buffer.concat([PNG_1X1, Buffer.from('x')]), 'image/png')
        expect(longer.status).toBe(403)
        const otherType = await fetch(ticket.url, { method: 'PUT', body: body(PNG_1X1), headers: { 'Content-Type': 'text/html' } })
        expect(otherType.status).toBe(403)
        expect(await exists(store, ticket.key)).toBe(false)
      }
      expect((await send(ticket, PNG_1X1, 'image/png')).status).toBe(200)
      const file = await confirmUpload(ticket.token, { secret: SECRET })
      expect(file.size).toBe(PNG_1X1.length)
    })

    it('an executable renamed .png passes the store but is refused at confirm and deleted', async () => {
      const ticket = await prepare()
      expect((await send(ticket, elfBytes(), 'image/png')).status).toBeLessThan(300)
      expect(await exists(store, ticket.key)).toBe(true)
      await expect(confirmUpload(ticket.token, { allowedContentTypes: ['image/*'], secret: SECRET }))
        .rejects.toMatchObject({ name: 'FileValidationError', code: 'CONTENT_MISMATCH' })
      expect(await exists(store, ticket.key)).toBe(false)
    })

    it('presigned multipart: parts signed on request, completed, confirmed', async () => {
      const ticket = await prepareMultipartUpload({
        backend, filename: 'video.bin', contentType: 'application/octet-stream', maxSize: 12 * MiB, expiresIn: 300, secret: SECRET,
      })
      expect(ticket.maxParts).toBe(3)
      const parts = [randomBytes(5 * MiB), randomBytes(1234)]
      const uploaded = []
      for (const [i, bytes] of parts.entries()) {
        const url = await signUploadPart(ticket.token, i + 1, { secret: SECRET })
        const res = await fetch(url, { method: 'PUT', body: body(bytes) })
        expect(res.status).toBe(200)
        uploaded.push({ partNumber: i + 1, etag: res.headers.get('etag')! })
      }
      await expect(signUploadPart(ticket.token, 4, { secret: SECRET })).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
      await completeMultipartUpload(ticket.token, uploaded, { secret: SECRET })
      const file = await confirmUpload(ticket.token, { secret: SECRET })
      expect(file.size).toBe(5 * MiB + 1234)
      expect((await store.getRange(ticket.key, 5 * MiB, 5 * MiB + 1234)).equals(parts[1]!)).toBe(true)
    })

    it('an abandoned multipart upload and a prepared-never-sent POST are swept; abort forgets the token', async () => {
      const server = servers()[kind]!
      const abandoned = await prepareMultipartUpload({
        backend, filename: 'big.bin', contentType: 'application/octet-stream', maxSize: 12 * MiB, expiresIn: 300, secret: SECRET,
      })
      const url = await signUploadPart(abandoned.token, 1, { secret: SECRET })
      expect((await fetch(url, { method: 'PUT', body: body(randomBytes(5 * MiB)) })).status).toBe(200)
      expect(await pendingUploads(server, `${prefix}/${abandoned.key}`)).toBe(1)
      const never = await prepare()
      const sent = await prepare()
      expect((await send(sent, PNG_1X1, 'image/png')).status).toBeLessThan(300)

      const { removed } = await sweepUnconfirmed({ backend, olderThan: 0 })
      expect(removed).toEqual(expect.arrayContaining([abandoned.key, never.key, sent.key]))
      expect(await pendingUploads(server, `${prefix}/${abandoned.key}`)).toBe(0)
      expect(await exists(store, sent.key)).toBe(false)
      await expect(confirmUpload(sent.token, { secret: SECRET })).rejects.toMatchObject({ code: 'INVALID_TOKEN', reason: 'consumed' })

      const aborted = await prepareMultipartUpload({
        backend, filename: 'big.bin', contentType: 'application/octet-stream', maxSize: 12 * MiB, expiresIn: 300, secret: SECRET,
      })
      await abortMultipartUpload(aborted.token, { secret: SECRET })
      expect(await pendingUploads(server, `${prefix}/${aborted.key}`)).toBe(0)
      await expect(signUploadPart(aborted.token, 1, { secret: SECRET })).rejects.toMatchObject({ code: 'INVALID_TOKEN', reason: 'consumed' })
    })

    it('FileObject.signUrl(): attachment with the original name (filename* for non-ASCII), or inline', async () => {
      const file = await new FileObject({ backend, filename: 'résumé "final".html', content: '<script>alert(1)</script>' }).save()
      const res = await fetch(await file.signUrl())
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('<script>alert(1)</script>')
      expect(res.headers.get('content-disposition')).toBe(`attachment; filename="r?sum? \\"final\\".html"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.html`)
      expect(res.headers.get('content-type')).toMatch(/^text\/html/)
      const inline = await fetch(await file.signUrl({ inline: true }))
      expect(inline.headers.get('content-disposition')).toMatch(/^inline; filename=/)
    })
  })
}
