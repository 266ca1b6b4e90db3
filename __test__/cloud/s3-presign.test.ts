/**
 * S3 presigning beyond plain URLs, against s3-mem-server (verifies SigV4, POST policies and
 * their content-length-range) and moto (checks behaviour, not signatures): download links
 * with response-* overrides, PUTs with a signed type and length, browser form uploads
 * (POST policy) and presigned multipart uploads.
 */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { S3Store, SignedPostForm } from '../../src/index.js'
import { makeS3, pendingUploads, refusalOf, rejectsWith, uniquePrefix, useServers } from './helpers.js'

const servers = useServers(['s3mem', 's3moto'])

/** Post `body` as the form's file, after its fields, as a browser's form would. */
function postForm(form: SignedPostForm, body: Buffer, fileType = 'application/octet-stream', extra: Record<string, string> = {}) {
  const data = new FormData()
  for (const [name, value] of Object.entries({ ...form.fields, ...extra })) data.append(name, value)
  data.append('file', new Blob([new Uint8Array(body)], { type: fileType }), 'upload.bin')
  return fetch(form.url, { method: 'POST', body: data })
}

async function exists(store: S3Store, key: string): Promise<boolean> {
  try {
    await store.head(key)
    return true
  } catch (err) {
    if ((err as { code?: string }).code === 'NOT_FOUND') return false
    throw err
  }
}

const MiB = 1024 * 1024

for (const [kind, label, verifies] of [['s3mem', 's3-mem-server', true], ['s3moto', 'moto', false]] as const) {
  const store = () => makeS3(servers()[kind]!)

  describe(`S3 presigning on ${label}`, () => {
    it('capabilities name signPost and presignedMultipart', () => {
      expect(store().capabilities).toMatchObject({ sign: true, signPost: true, presignedMultipart: true })
    })

    it('a GET link with responseContentDisposition/Type answers with those headers', async () => {
      const s = store()
      const key = `${uniquePrefix('disposition')}/report.bin`
      await s.put(key, 'pdf bytes', { contentType: 'application/octet-stream' })
      const disposition = `attachment; filename="resume 1.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%201.pdf`
      const url = await s.signUrl('GET', key, { responseContentDisposition: disposition, responseContentType: 'application/pdf' })
      const res = await fetch(url)
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('pdf bytes')
      expect(res.headers.get('content-disposition')).toBe(disposition)
      expect(res.headers.get('content-type')).toBe('application/pdf')
    })

    it.skipIf(!verifies)('a link whose disposition was changed is refused', async () => {
      const s = store()
      const key = `${uniquePrefix('disposition-tamper')}/a.txt`
      await s.put(key, 'x')
      const url = new URL(await s.signUrl('GET', key, { responseContentDisposition: 'attachment' }))
      url.searchParams.set('response-content-disposition', 'inline')
      expect((await fetch(url)).status).toBe(403)
    })

    it.skipIf(!verifies)('a PUT with a signed type and length accepts only that type and length', async () => {
      const s = store()
      const key = `${uniquePrefix('typed-put')}/a.png`
      const body = randomBytes(321)
      const url = await s.signUrl('PUT', key, { contentType: 'image/png', contentLength: body.length })
      expect(new URL(url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-type;host')
      const wrongType = await fetch(url, { method: 'PUT', body, headers: { 'content-type': 'text/html' } })
      expect(wrongType.status).toBe(403)
      const wrongLength = await fetch(url, { method: 'PUT', body: body.subarray(1), headers: { 'content-type': 'image/png' } })
      expect(wrongLength.status).toBe(403)
      expect(await exists(s, key)).toBe(false)
      const right = await fetch(url, { method: 'PUT', body, headers: { 'content-type': 'image/png' } })
      expect(right.status).toBe(200)
      const got = await s.get(key)
      expect(got.meta.size).toBe(321)
      expect((await got.bytes()).equals(body)).toBe(true)
    })

    it('response options only go with reads, contentType/contentLength only with PUT', async () => {
      const s = store()
      await rejectsWith(s.signUrl('PUT', 'a', { responseContentDisposition: 'attachment' }), 'INVALID_CONFIG')
      await rejectsWith(s.signUrl('GET', 'a', { contentType: 'text/plain' }), 'INVALID_CONFIG')
      await rejectsWith(s.signUrl('PUT', 'a', { contentLength: -1 }), 'INVALID_CONFIG')
      await rejectsWith(s.signUrl('PUT', 'a', { contentType: 'text/plain\r\nx-evil: 1' }), 'INVALID_CONFIG')
      await rejectsWith(s.signUrls('GET', ['a'], { responseContentType: 'a\nb' }), 'INVALID_CONFIG')
    })

    it('a PUT cannot be signed for a largest size (maxContentLength): NOT_SUPPORTED, a POST policy is the way', async () => {
      const s = store()
      const err = await rejectsWith(s.signUrl('PUT', 'a', { contentType: 'image/png', maxContentLength: 1024 }), 'NOT_SUPPORTED')
      expect(err.message).toContain('signPost')
      await rejectsWith(s.signUrls('PUT', ['a', 'b'], { maxContentLength: 1024 }), 'NOT_SUPPORTED')
      await rejectsWith(s.signUrl('PUT', 'a', { contentLength: 10, maxContentLength: 1024 }), 'INVALID_CONFIG')
      await rejectsWith(s.signUrl('GET', 'a', { maxContentLength: 1024 }), 'INVALID_CONFIG')
    })

    it('signUrl and signUrls sign the same request the same way', async () => {
      const s = store()
      const [one, many] = [await s.signUrl('GET', 'same/key.txt', { expiresIn: 60 }), await s.signUrls('GET', ['same/key.txt'], { expiresIn: 60 })]
      const strip = (u: string) => { const url = new URL(u); url.searchParams.delete('X-Amz-Signature'); url.searchParams.delete('X-Amz-Date'); url.searchParams.delete('X-Amz-Credential'); return url.toString() }
      expect(strip(one)).toBe(strip(many[0]!))
    })

    describe('signPost (browser form upload)', () => {
      it('a form within the limits stores the file with the pinned type', async () => {
        const s = store()
        const key = `${uniquePrefix('post')}/photo.png`
        const form = await s.signPost(key, { contentType: 'image/png', maxSize: 1000, expiresIn: 300 })
        expect(form.fields.key).toBe(key)
        expect(form.fields['Content-Type']).toBe('image/png')
        const body = randomBytes(700)
        const res = await postForm(form, body, 'image/png')
        expect(res.status, await res.clone().text()).toBeGreaterThanOrEqual(200)
        expect(res.status).toBeLessThan(300)
        const got = await s.get(key)
        expect((await got.bytes()).equals(body)).toBe(true)
        expect(got.meta.size).toBe(700)
        expect((await s.head(key)).size).toBe(700)
      })

      it.skipIf(!verifies)('an oversized file is refused and leaves no object', async () => {
        const s = store()
        const key = `${uniquePrefix('post-big')}/big.bin`
        const form = await s.signPost(key, { maxSize: 1000 })
        expect(await refusalOf(postForm(form, randomBytes(1001)))).toMatch(/^(400 [^]*EntityTooLarge|connection (EPIPE|ECONNRESET))/)
        expect(await exists(s, key)).toBe(false)
      })

      it.skipIf(!verifies)('a file under minSize, another content type, another key or a forged policy is refused', async () => {
        const s = store()
        const key = `${uniquePrefix('post-bad')}/a.png`
        const form = await s.signPost(key, { contentType: 'image/png', minSize: 10, maxSize: 1000 })
        const closed = 'connection (EPIPE|ECONNRESET)'
        expect(await refusalOf(postForm(form, randomBytes(5), 'image/png'))).toMatch(new RegExp(`^(400 |${closed})`))
        const otherType = refusalOf(postForm(form, randomBytes(50), 'text/html', { 'Content-Type': 'text/html' }))
        expect(await otherType).toMatch(new RegExp(`^(4\\d\\d |${closed})`))
        const otherKey = refusalOf(postForm(form, randomBytes(50), 'image/png', { key: `${key}.html` }))
        expect(await otherKey).toMatch(new RegExp(`^(4\\d\\d |${closed})`))
        const policy = JSON.parse(Buffer.from(form.fields.policy!, 'base64').toString()) as { conditions: unknown[] }
        policy.conditions = policy.conditions.map((c) => Array.isArray(c) && c[0] === 'content-length-range' ? ['content-length-range', 0, 1e9] : c)
        const forged = refusalOf(postForm(form, randomBytes(50), 'image/png', { policy: Buffer.from(JSON.stringify(policy)).toString('base64') }))
        expect(await forged).toMatch(new RegExp(`^(403 |${closed})`))
        expect(await exists(s, key)).toBe(false)
        expect(await exists(s, `${key}.html`)).toBe(false)
      })

      it('bad limits are INVALID_CONFIG', async () => {
        const s = store()
        await rejectsWith(s.signPost('a', { maxSize: -1 }), 'INVALID_CONFIG')
        await rejectsWith(s.signPost('a', { minSize: 5, maxSize: 4 }), 'INVALID_CONFIG')
        await rejectsWith(s.signPost('a', { maxSize: 1.5 }), 'INVALID_CONFIG')
        await rejectsWith(s.signPost('a', {} as never), 'INVALID_CONFIG')
      })
    })

    describe('presigned multipart', () => {
      it('parts PUT through presigned URLs complete into the object', async () => {
        const s = store()
        const key = `${uniquePrefix('mpu')}/big.bin`
        const uploadId = await s.createMultipartUpload(key, { contentType: 'application/x-test' })
        const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(1234)]
        const urls = await s.signUploadParts(key, uploadId, [1, 2, 3], { expiresIn: 600 })
        expect(urls).toHaveLength(3)
        expect(new URL(urls[1]!).searchParams.get('partNumber')).toBe('2')
        expect(new URL(urls[1]!).searchParams.get('uploadId')).toBe(uploadId)
        const etags = await Promise.all(urls.map(async (url, i) => {
          const res = await fetch(url, { method: 'PUT', body: parts[i]! })
          expect(res.status).toBe(200)
          return res.headers.get('etag')!
        }))
        expect(await exists(s, key)).toBe(false)
        // In any order: they are sorted by number.
        const done = await s.completeMultipartUpload(key, uploadId, [2, 0, 1].map((i) => ({ partNumber: i + 1, etag: etags[i]! })))
        expect(done.etag).toBeTruthy()
        const got = await s.get(key)
        expect((await got.bytes()).equals(Buffer.concat(parts))).toBe(true)
        expect(got.meta.size).toBe(10 * MiB + 1234)
        expect(got.attributes?.contentType).toBe('application/x-test')
        expect(await pendingUploads(servers()[kind]!, key)).toBe(0)
      })

      it.skipIf(!verifies)('a part URL is signed for its part and upload', async () => {
        const s = store()
        const key = `${uniquePrefix('mpu-tamper')}/x.bin`
        const uploadId = await s.createMultipartUpload(key)
        const [url] = await s.signUploadParts(key, uploadId, [1])
        const moved = new URL(url!)
        moved.searchParams.set('partNumber', '2')
        expect((await fetch(moved, { method: 'PUT', body: 'x' })).status).toBe(403)
        await s.abortMultipartUpload(key, uploadId)
      })

      it('abort leaves no object and no pending upload', async () => {
        const s = store()
        const key = `${uniquePrefix('mpu-abort')}/gone.bin`
        const uploadId = await s.createMultipartUpload(key)
        const [url] = await s.signUploadParts(key, uploadId, [1])
        expect((await fetch(url!, { method: 'PUT', body: randomBytes(1000) })).status).toBe(200)
        expect(await pendingUploads(servers()[kind]!, key)).toBe(1)
        await s.abortMultipartUpload(key, uploadId)
        expect(await pendingUploads(servers()[kind]!, key)).toBe(0)
        expect(await exists(s, key)).toBe(false)
      })

      it('bad arguments are INVALID_CONFIG or INVALID_PATH', async () => {
        const s = store()
        await rejectsWith(s.createMultipartUpload(''), 'INVALID_PATH')
        await rejectsWith(s.signUploadParts('a', '', [1]), 'INVALID_CONFIG')
        for (const bad of [0, 10_001, 1.5, Number.NaN, '1' as never]) {
          await rejectsWith(s.signUploadParts('a', 'id', [bad]), 'INVALID_CONFIG')
        }
        await rejectsWith(s.signUploadParts('a', 'id', 'x' as never), 'INVALID_CONFIG')
        await rejectsWith(s.completeMultipartUpload('a', 'id', []), 'INVALID_CONFIG')
        await rejectsWith(s.completeMultipartUpload('a', 'id', [{ partNumber: 1, etag: 'a' }, { partNumber: 3, etag: 'b' }]), 'INVALID_CONFIG')
        await rejectsWith(s.completeMultipartUpload('a', 'id', [{ partNumber: 1, etag: '' }]), 'INVALID_CONFIG')
        await rejectsWith(s.abortMultipartUpload('a', 5 as never), 'INVALID_CONFIG')
      })
    })
  })
}
