// FileObject.signUrl() asks the store for a link that keeps the original filename: the header
// values it passes (the S3 suite checks that a real server answers with them).
import { parse } from 'content-disposition'
import { afterAll, describe, expect, it } from 'vitest'
import { FileObject, MemoryStore, storages, type SignMethod, type SignOptions } from '../../src/index.js'

/** A MemoryStore that "signs" by recording what it was asked for. */
class RecordingStore extends MemoryStore {
  asked: Array<{ method: SignMethod; key: string; options: Record<string, unknown> }> = []
  override signUrl(method: SignMethod, key: string, options?: SignOptions | null): Promise<string> {
    this.asked.push({ method, key, options: { ...(options ?? {}) } })
    return Promise.resolve(`https://signed.invalid/${key}`)
  }
}

describe('FileObject.signUrl()', () => {
  const store = new RecordingStore()
  storages.register('web-links', store, { replace: true })
  afterAll(() => { storages.unregister('web-links') })

  it('asks for attachment with the original name, RFC 5987 filename* for non-ASCII, and the type', async () => {
    const file = await new FileObject({ backend: 'web-links', filename: 'Résumé 2026 "final".html', content: '<p>hi</p>' }).save()
    await file.signUrl({ expiresIn: 120 })
    const { method, key, options } = store.asked.at(-1)!
    expect(method).toBe('GET')
    expect(key).toBe(file.key)
    expect(options).toMatchObject({ expiresIn: 120, responseContentType: 'text/html' })
    const disposition = options.responseContentDisposition as string
    expect(disposition).toBe(`attachment; filename="R?sum? 2026 \\"final\\".html"; filename*=UTF-8''R%C3%A9sum%C3%A9%202026%20%22final%22.html`)
    // A reader of the header (here the same package's parser) gets the original name back.
    expect(parse(disposition)).toMatchObject({ type: 'attachment', parameters: { filename: 'Résumé 2026 "final".html' } })
  })

  it('inline on request, a plain (token) filename for ASCII names, no disposition for PUT', async () => {
    const file = await new FileObject({ backend: 'web-links', filename: 'chart.png', content: Buffer.from([1, 2, 3]) }).save()
    await file.signUrl({ inline: true })
    expect(store.asked.at(-1)!.options.responseContentDisposition).toBe('inline; filename=chart.png')
    await file.signUrl({ filename: 'q3.png' })
    expect(store.asked.at(-1)!.options.responseContentDisposition).toBe('attachment; filename=q3.png')
    await file.signUrl({ method: 'PUT' })
    expect(store.asked.at(-1)!.options).toEqual({ expiresIn: undefined })
  })
})
