import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalStore, StorageError, fromUrl } from '../src/index.js'

async function code(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(() => 'resolved', (err: unknown) => (err instanceof StorageError ? err.code : `not a StorageError: ${err}`))
}

describe('LocalStore', () => {
  let base: string
  let root: string
  let outside: string
  let store: LocalStore

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'stowage-local-'))
    root = join(base, 'root')
    outside = join(base, 'outside')
    await mkdir(root)
    await mkdir(outside)
    await writeFile(join(outside, 'secret.txt'), 'top secret')
    await symlink(outside, join(root, 'dir-link'))
    await symlink(join(outside, 'secret.txt'), join(root, 'file-link'))
    await symlink(join(base, 'nowhere'), join(root, 'dangling'))
    await mkdir(join(root, 'inside'))
    await symlink(join(root, 'inside'), join(root, 'inner-link'))
    store = new LocalStore(root)
  })

  afterAll(() => rm(base, { recursive: true, force: true }))

  it('refuses keys that escape the root, and touches nothing outside it', async () => {
    for (const key of ['../outside/secret.txt', '/etc/passwd', 'a/../../x', 'nul\0.txt']) {
      expect(await code(store.get(key)), key).toBe('INVALID_PATH')
      expect(await code(store.put(key, 'x')), key).toBe('INVALID_PATH')
    }
    expect(await code(store.get('dir-link/secret.txt'))).toBe('INVALID_PATH')
    expect(await code(store.get('file-link'))).toBe('INVALID_PATH')
    expect(await code(store.head('file-link'))).toBe('INVALID_PATH')
    expect(await code(store.getRange('file-link', 0, 3))).toBe('INVALID_PATH')
    expect(await code(store.put('dir-link/planted.txt', 'x'))).toBe('INVALID_PATH')
    expect(await code(store.put('dangling', 'x'))).toBe('INVALID_PATH')
    expect(await code(store.put('file-link', 'overwritten'))).toBe('INVALID_PATH')
    expect(await code(store.delete('file-link'))).toBe('INVALID_PATH')
    await store.put('inside/ok.txt', 'ok')
    expect(await code(store.copy('inside/ok.txt', 'dir-link/copied.txt'))).toBe('INVALID_PATH')
    expect(await code(store.rename('inside/ok.txt', 'dir-link/moved.txt'))).toBe('INVALID_PATH')
    expect(await code(store.copy('dir-link/secret.txt', 'inside/stolen.txt'))).toBe('INVALID_PATH')
    expect(await code(store.listWithDelimiter('dir-link'))).toBe('INVALID_PATH')
    expect(await code((async () => { for await (const _ of store.list('dir-link')) void _ })())).toBe('INVALID_PATH')

    expect(await readdir(outside)).toEqual(['secret.txt'])
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('top secret')
    expect(existsSync(join(root, 'inside', 'stolen.txt'))).toBe(false)
  })

  it('follows symlinks that stay inside the root', async () => {
    await store.put('inside/through-link.txt', 'fine')
    expect(await (await store.get('inner-link/through-link.txt')).text()).toBe('fine')
  })

  it('writes files where the key says, and drops attributes', async () => {
    await store.put('docs/report 1.txt', 'content', { contentType: 'text/plain', metadata: { a: 'b' } })
    expect(await readFile(join(root, 'docs', 'report 1.txt'), 'utf8')).toBe('content')
    expect((await store.get('docs/report 1.txt')).attributes).toEqual({ metadata: {} })
  })

  it('writes atomically: nothing is visible until the upload finishes', async () => {
    const writable = store.createWriteStream('atomic/big.bin', { chunkSize: 1024 * 1024 })
    await new Promise<void>((resolve, reject) => writable.write(Buffer.alloc(3 * 1024 * 1024, 7), (e) => (e ? reject(e) : resolve())))
    expect(existsSync(join(root, 'atomic', 'big.bin'))).toBe(false)
    expect(await code(store.head('atomic/big.bin'))).toBe('NOT_FOUND')
    await new Promise<void>((resolve, reject) => writable.end((e?: Error | null) => (e ? reject(e) : resolve())))
    expect((await store.head('atomic/big.bin')).size).toBe(3 * 1024 * 1024)
  })

  it('needs an absolute, existing root unless mkdir is set', async () => {
    expect(await code((async () => new LocalStore('relative/dir'))())).toBe('INVALID_CONFIG')
    expect(await code((async () => new LocalStore(join(base, 'missing')))())).toBe('INVALID_CONFIG')
    expect(await code((async () => new LocalStore(join(outside, 'secret.txt')))())).toBe('INVALID_CONFIG')
    const made = new LocalStore(join(base, 'made', 'deep'), { mkdir: true })
    await made.put('x', 'y')
    expect(await readFile(join(base, 'made', 'deep', 'x'), 'utf8')).toBe('y')
  })

  it('is built by fromUrl for file:// and memory://, and refuses unknown URLs', async () => {
    const viaUrl = fromUrl(`file://${root}`)
    expect(await (await viaUrl.get('docs/report 1.txt')).text()).toBe('content')
    const memory = fromUrl('memory://')
    await memory.put('k', 'v')
    expect(await (await memory.get('k')).text()).toBe('v')
    expect(await code((async () => fromUrl('nope://x'))())).toBe('INVALID_CONFIG')
    expect(await code((async () => fromUrl('not a url'))())).toBe('INVALID_CONFIG')
    expect(await code((async () => fromUrl('file://relative'))())).toBe('INVALID_CONFIG')
  })

  it('describes itself without internals', () => {
    expect(inspect(store)).toBe(`LocalStore(${root})`)
    expect(String(store)).toBe(`LocalStore(${root})`)
  })
})
