import { describe, expect, it } from 'vitest'
import { ContentInspector, IMAGE_HEADER_BYTES, inspectedSource } from '../src/content-check.js'
import { SNIFF_BYTES, checkContentType, sniffContentType } from '../src/content-sniff.js'
import { FileValidationError, type FileValidationCode } from '../src/file-validation.js'
import { gif, jpeg, pdf, png } from './fixtures/images.js'

async function refusal(promise: Promise<unknown>): Promise<FileValidationCode> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(FileValidationError)
  return (error as FileValidationError).code
}

describe('sniffContentType', () => {
  it('tells formats by their magic bytes, and nothing for text', async () => {
    expect(await sniffContentType(png(3, 2))).toBe('image/png')
    expect(await sniffContentType(jpeg(3, 2))).toBe('image/jpeg')
    expect(await sniffContentType(gif(3, 2))).toBe('image/gif')
    expect(await sniffContentType(pdf())).toBe('application/pdf')
    expect(await sniffContentType(Buffer.from('name,size\nа,1\n'))).toBeUndefined()
    expect(await sniffContentType(Buffer.from('{"a": 1}'))).toBeUndefined()
    expect(await sniffContentType(new Uint8Array(0))).toBeUndefined()
  })
})

describe('checkContentType', () => {
  it('accepts bytes that agree with the declared type and the allowed list', async () => {
    const check = await checkContentType(png(3, 2), { contentType: 'image/png', allowedContentTypes: ['image/*'] })
    expect(check.sniffed).toEqual({ mime: 'image/png', ext: 'png' })
    expect(check.contentTypes[0]).toBe('image/png')
    // Parameters and case do not matter.
    await checkContentType(jpeg(1, 1), { contentType: 'Image/JPEG; q=1', allowedContentTypes: ['image/jpeg'] })
  })

  it('refuses bytes that contradict the declared type: CONTENT_MISMATCH', async () => {
    expect(await refusal(checkContentType(pdf(), { contentType: 'image/png' }))).toBe('CONTENT_MISMATCH')
    expect(await refusal(checkContentType(png(1, 1), { contentType: 'text/plain' }))).toBe('CONTENT_MISMATCH')
    // A type with a signature whose bytes show none.
    expect(await refusal(checkContentType(Buffer.from('just text'), { contentType: 'image/png' }))).toBe('CONTENT_MISMATCH')
  })

  it('takes a type without a signature at its word unless the bytes are a known binary format', async () => {
    for (const contentType of ['text/plain', 'text/csv', 'application/json', 'image/svg+xml']) {
      const check = await checkContentType(Buffer.from('a,b\n1,2\n'), { contentType, allowedContentTypes: [contentType] })
      expect(check.contentTypes).toEqual([contentType])
    }
    expect(await refusal(checkContentType(gif(1, 1), { contentType: 'text/csv', allowedContentTypes: ['text/csv'] }))).toBe(
      'CONTENT_MISMATCH',
    )
  })

  it('refuses allowed declared types whose bytes show a format outside the list: CONTENT_TYPE_NOT_ALLOWED', async () => {
    // application/octet-stream claims nothing, so the bytes decide.
    const code = await refusal(
      checkContentType(pdf(), { contentType: 'application/octet-stream', allowedContentTypes: ['image/*', 'application/octet-stream'] }),
    )
    expect(code).toBe('CONTENT_TYPE_NOT_ALLOWED')
    await checkContentType(png(1, 1), { contentType: 'application/octet-stream', allowedContentTypes: ['image/*'] })
    expect(await refusal(checkContentType(pdf(), { contentType: 'application/pdf', allowedContentTypes: ['image/*'] }))).toBe(
      'CONTENT_TYPE_NOT_ALLOWED',
    )
  })

  it('knows aliases through the file extension, XML types and document containers', async () => {
    // mime-db calls .ico image/vnd.microsoft.icon, file-type calls it image/x-icon.
    const ico = Buffer.from([0, 0, 1, 0, 1, 0, 16, 16, 0, 0, 1, 0, 32, 0, 0x68, 4, 0, 0, 22, 0, 0, 0])
    expect(await sniffContentType(ico)).toBe('image/x-icon')
    await checkContentType(ico, { contentType: 'image/vnd.microsoft.icon', allowedContentTypes: ['image/vnd.microsoft.icon'] })
    const svg = Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>')
    await checkContentType(svg, { contentType: 'image/svg+xml', allowedContentTypes: ['image/svg+xml'] })
    expect(await refusal(checkContentType(svg, { contentType: 'image/png' }))).toBe('CONTENT_MISMATCH')
    // An empty ZIP archive: the envelope of docx, xlsx, epub.
    const zip = Buffer.concat([Buffer.from('PK\x05\x06', 'latin1'), Buffer.alloc(18)])
    const docx = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'
    expect(await sniffContentType(zip)).toBe('application/zip')
    await checkContentType(zip, { contentType: docx, allowedContentTypes: [docx] })
    expect(await refusal(checkContentType(zip, { contentType: 'image/png' }))).toBe('CONTENT_MISMATCH')
  })
})

describe('inspectedSource', () => {
  async function* chunks(bytes: Buffer, size: number, pulled: { n: number }): AsyncGenerator<Uint8Array> {
    for (let at = 0; at < bytes.length; at += size) {
      const chunk = bytes.subarray(at, at + size)
      pulled.n += chunk.length
      yield chunk
    }
  }

  async function drain(source: AsyncIterable<Uint8Array>): Promise<{ received: number; error: unknown }> {
    let received = 0
    try {
      for await (const chunk of source) received += chunk.byteLength
      return { received, error: undefined }
    } catch (error) {
      return { received, error }
    }
  }

  it('passes the content through unchanged once its first bytes pass', async () => {
    const bytes = Buffer.concat([png(8, 8), Buffer.alloc(100_000, 1)])
    const inspector = new ContentInspector({ contentType: 'image/png' }, { allowedContentTypes: ['image/*'], maxImageWidth: 8 })
    const out: Uint8Array[] = []
    for await (const chunk of inspectedSource(chunks(bytes, 1000, { n: 0 }), inspector)) out.push(chunk)
    expect(Buffer.concat(out).equals(bytes)).toBe(true)
    // Shorter than the sniffed head: checked as the whole content at its end.
    const small = png(2, 2)
    const whole: Uint8Array[] = []
    for await (const chunk of inspectedSource(chunks(small, 7, { n: 0 }), new ContentInspector({ contentType: 'image/png' }, { maxImageHeight: 2 }))) whole.push(chunk)
    expect(Buffer.concat(whole).equals(small)).toBe(true)
  })

  it('refuses before the consumer received a byte, having read only the head', async () => {
    const pulled = { n: 0 }
    const bytes = Buffer.concat([pdf(), Buffer.alloc(4 * 1024 * 1024)])
    const inspector = new ContentInspector({ contentType: 'image/png', filename: 'x.png' }, { allowedContentTypes: ['image/png'] })
    const { received, error } = await drain(inspectedSource(chunks(bytes, 4096, pulled), inspector))
    expect(received).toBe(0)
    expect((error as FileValidationError).code).toBe('CONTENT_MISMATCH')
    expect(inspector.refusal).toBe(error)
    expect(pulled.n).toBe(SNIFF_BYTES)
  })

  it('reads a JPEG header as far as its frame, in small chunks too, and no further than IMAGE_HEADER_BYTES', async () => {
    const limits = { maxImageWidth: 1000, maxImageHeight: 1000 }
    const late = Buffer.concat([jpeg(2000, 10, 200_000), Buffer.alloc(2 * 1024 * 1024)])
    const pulled = { n: 0 }
    const refused = await drain(inspectedSource(chunks(late, 512, pulled), new ContentInspector({ contentType: 'image/jpeg' }, limits)))
    expect(refused.received).toBe(0)
    expect((refused.error as FileValidationError).message).toMatch(/2000x10 pixels, over the limit of 1000x1000/)
    expect(pulled.n).toBeLessThanOrEqual(2 * 200_000)
    // A frame header past 1 MiB is never reached: the image is refused as unreadable.
    const hidden = Buffer.concat([jpeg(10, 10, IMAGE_HEADER_BYTES + 10_000)])
    const unread = { n: 0 }
    const unreadable = await drain(inspectedSource(chunks(hidden, 64 * 1024, unread), new ContentInspector({ contentType: 'image/jpeg' }, limits)))
    expect((unreadable.error as FileValidationError).code).toBe('IMAGE_TOO_LARGE')
    expect((unreadable.error as Error).message).toMatch(/could not be read from its first 1048576 bytes/)
    expect(unread.n).toBeLessThan(IMAGE_HEADER_BYTES + 64 * 1024)
  })

  it('measures an image as displayed: an EXIF orientation that turns it swaps width and height', async () => {
    const sideways = jpeg(100, 50, 0, 6) // stored 100x50, displayed 50x100
    expect(await sniffContentType(sideways)).toBe('image/jpeg')
    expect(await new ContentInspector({ contentType: 'image/jpeg' }, { maxImageWidth: 50, maxImageHeight: 100 }).inspect(sideways, true)).toBe(true)
    const code = await refusal(new ContentInspector({ contentType: 'image/jpeg' }, { maxImageHeight: 60 }).inspect(sideways, true))
    expect(code).toBe('IMAGE_TOO_LARGE')
    expect(await new ContentInspector({ contentType: 'image/jpeg' }, { maxImageHeight: 60 }).inspect(jpeg(100, 50, 0, 1), true)).toBe(true)
  })

  it('applies image limits to images only', async () => {
    const csv = Buffer.from('w,h\n5000,5000\n')
    const inspector = new ContentInspector({ contentType: 'text/csv' }, { maxImageWidth: 1 })
    expect(await inspector.inspect(csv, true)).toBe(true)
    expect(await refusal(new ContentInspector({ contentType: 'image/gif' }, { maxImageHeight: 9 }).inspect(gif(3, 10), true))).toBe('IMAGE_TOO_LARGE')
    expect(await new ContentInspector({ contentType: 'image/gif' }, { maxImageWidth: 3, maxImageHeight: 10 }).inspect(gif(3, 10), true)).toBe(true)
  })
})
