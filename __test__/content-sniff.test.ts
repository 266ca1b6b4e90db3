import { describe, expect, it } from 'vitest'
import { checkContentType, sniffContentType } from '../src/content-sniff.js'
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
