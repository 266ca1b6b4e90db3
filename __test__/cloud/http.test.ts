/** HTTPStore against a WebDAV server (rclone serve webdav). */
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { HTTPStore, fromUrl } from '../../src/index.js'
import { rejectsWith, uniquePrefix, useServers } from './helpers.js'

const servers = useServers(['webdav'])
const url = () => servers().webdav!.url

describe('HTTPStore on WebDAV', () => {
  it('put, get, list, copy, rename and delete', async () => {
    const store = new HTTPStore(url(), { client: { connectTimeout: 2000 }, retry: { maxRetries: 1 } })
    expect(inspect(store)).toBe(`HTTPStore(${url()}/)`)
    const base = uniquePrefix('dav')
    await store.put(`${base}/a.txt`, 'A')
    expect(await (await store.get(`${base}/a.txt`)).text()).toBe('A')
    await store.copy(`${base}/a.txt`, `${base}/b.txt`)
    await store.rename(`${base}/b.txt`, `${base}/c.txt`)
    const listed: string[] = []
    for await (const m of store.list(base)) listed.push(m.path)
    expect(listed.sort()).toEqual([`${base}/a.txt`, `${base}/c.txt`])
    await store.delete([`${base}/a.txt`, `${base}/c.txt`])
    await rejectsWith(store.head(`${base}/a.txt`), 'NOT_FOUND')
  })

  it('a URL path is where keys live; fromUrl gives the same store', async () => {
    const base = uniquePrefix('dav-url')
    const root = new HTTPStore(url())
    await root.put(`${base}/inner/x.txt`, 'X')
    const nested = fromUrl(`${url()}/${base}/`)
    expect(await (await nested.get('inner/x.txt')).text()).toBe('X')
  })

  it('cannot sign, and conditional puts are NOT_SUPPORTED', async () => {
    const store = new HTTPStore(url())
    await rejectsWith(store.signUrl('GET', 'x'), 'NOT_SUPPORTED')
    await rejectsWith(store.put(`${uniquePrefix('dav-create')}/x`, 'x', { mode: 'create' }), 'NOT_SUPPORTED')
  })

  it('bad URLs are INVALID_CONFIG', () => {
    expect(() => new HTTPStore('not a url')).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
    expect(() => new HTTPStore('ftp://host/')).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
  })
})
