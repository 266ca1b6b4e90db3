/**
 * What the multer and Fastify suites both check of a route that saves with `maxSize` and
 * `allowedContentTypes` (multerStorage's, saveMultipartFile's): what it stores, what it refuses
 * and with which code, that nothing of a refused file stays in the store, and that a part
 * refused mid-body is drained so the keep-alive connection serves the next request.
 *
 * The route (POST `<base>/checked`, one file field `file`) saves with {@link CHECKED_MAX} and
 * {@link CHECKED_TYPES}, answers a saved file with `{ key, json: file.toJSON() }` and a
 * `FileValidationError` with 413 (`FILE_TOO_LARGE`) or 415 and `{ code, name }`, and resolves
 * `watch.refusal` with what it refused. `<base>/ping` answers 200 `pong`.
 */
import { randomBytes } from 'node:crypto'
import http from 'node:http'
import { describe, expect, it } from 'vitest'
import type { LocalStore } from '../../src/index.js'
import { PNG_1X1, elfBytes, filesOnDisk, multipartBody, postForm, postFormSplit, request, signal } from './helpers.js'

/** The checked route's maxSize; the parser's own limit is set above it (twice as large). */
export const CHECKED_MAX = 512 * 1024

/** The checked route's allowed types. */
export const CHECKED_TYPES = ['image/png', 'application/pdf']

/** Where the checked route reports what it refused; the suite renews `refusal` before each request. */
export interface RefusalWatch {
  refusal: ReturnType<typeof signal<unknown>>
}

/** A PDF's first bytes, then `size` bytes in all. */
const pdfOf = (size: number) => Buffer.concat([Buffer.from('%PDF-1.4\n%stowage\n'), randomBytes(size - 18)])

const statusOf = (code: string) => (code === 'FILE_TOO_LARGE' ? 413 : 415)

/**
 * The suite, against the app at `base()` saving into `backend` (a LocalStore in the directory
 * `root`, whose files are what is really left); `parser` names the multipart parser (`multer`,
 * `@fastify/multipart`).
 */
export function checkedUploadsSuite(target: {
  base: () => string
  backend: { store: LocalStore; root: string }
  watch: RefusalWatch
  parser: string
}): void {
  const { backend: { store, root }, watch } = target
  const checked = () => `${target.base()}/checked`

  describe('maxSize and allowedContentTypes, checked while the file streams', () => {
    it('stores what the list allows, its bytes agreeing with its declared type', async () => {
      for (const [filename, contentType, data] of [['photo.png', 'image/png', PNG_1X1], ['report.pdf', 'application/pdf', pdfOf(20_000)]] as const) {
        const answer = await postForm(checked(), multipartBody([{ name: 'file', filename, contentType, data }]))
        expect(answer.status, filename).toBe(200)
        const { key, json } = answer.json()
        expect(json).toMatchObject({ filename, contentType, size: data.length })
        expect(Buffer.compare(await (await store.get(key)).bytes(), data)).toBe(0)
      }
    })

    const refused = [
      ['an executable renamed .png', 'photo.png', 'image/png', elfBytes(), 'CONTENT_MISMATCH'],
      ['a PNG declared as a PDF', 'report.pdf', 'application/pdf', PNG_1X1, 'CONTENT_MISMATCH'],
      ['a text file declared as a PNG', 'photo.png', 'image/png', Buffer.from('just some text, no PNG signature'), 'CONTENT_MISMATCH'],
      ['a declared type outside the list', 'page.html', 'text/html', Buffer.from('<script>alert(1)</script>'), 'CONTENT_TYPE_NOT_ALLOWED'],
      ['an executable declared as octet-stream', 'tool', 'application/octet-stream', elfBytes(), 'CONTENT_TYPE_NOT_ALLOWED'],
      ['a PNG over maxSize', 'big.png', 'image/png', Buffer.concat([PNG_1X1, randomBytes(CHECKED_MAX)]), 'FILE_TOO_LARGE'],
      // The parser's own limit is reached too, later in the body: the first refusal is the one reported.
      [`an executable renamed .png, larger than ${target.parser}'s own limit`, 'photo.png', 'image/png', elfBytes(4 * CHECKED_MAX), 'CONTENT_MISMATCH'],
    ] as const
    for (const [what, filename, contentType, data, code] of refused) {
      it(`refuses ${what}: FileValidationError ${code}, nothing left in the store`, async () => {
        const before = filesOnDisk(root)
        watch.refusal = signal()
        const answer = await postForm(checked(), multipartBody([{ name: 'file', filename, contentType, data }]))
        expect(answer.status).toBe(statusOf(code))
        expect(answer.json()).toEqual({ code, name: 'FileValidationError' })
        await expect(watch.refusal.promise).resolves.toMatchObject({ name: 'FileValidationError', code })
        expect(filesOnDisk(root)).toEqual(before)
      })
    }

    // The body is 4 MiB; the first write stops past the point where the part is refused.
    for (const [what, data, splitAt, code] of [
      ['an executable renamed .png', elfBytes(4 * 1024 * 1024), 256 * 1024, 'CONTENT_MISMATCH'],
      ['a PNG over maxSize', Buffer.concat([PNG_1X1, randomBytes(4 * 1024 * 1024)]), CHECKED_MAX + 128 * 1024, 'FILE_TOO_LARGE'],
    ] as const) {
      it(`refuses ${what} mid-body, before the upload completes; the rest is drained and the connection serves the next request`, async () => {
        const before = filesOnDisk(root)
        watch.refusal = signal()
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
        try {
          const form = multipartBody([{ name: 'file', filename: 'photo.png', contentType: 'image/png', data }])
          const answer = await postFormSplit(checked(), form, {
            agent,
            splitAt,
            // With most of the body unsent: the part is refused, and nothing of it is in the store.
            between: async () => {
              await expect(watch.refusal.promise).resolves.toMatchObject({ name: 'FileValidationError', code })
              expect(filesOnDisk(root)).toEqual(before)
            },
          })
          expect(answer.status).toBe(statusOf(code))
          expect(answer.json().code).toBe(code)
          const next = await request(`${target.base()}/ping`, { agent, timeoutMs: 5000 })
          expect(next.status).toBe(200)
          expect(next.body.toString()).toBe('pong')
          expect(next.localPort).toBe(answer.localPort) // the same connection: the body was drained
          expect(filesOnDisk(root)).toEqual(before)
        } finally {
          agent.destroy()
        }
      })
    }
  })
}
