import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalStore, StorageError, fromUrl } from '../src/index.js'

async function code(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(() => 'resolved', (err: unknown) => (err instanceof StorageError ? err.code : `not a StorageError: ${String(err)}`))
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

/** Every entry a listing yields, or the error code it fails with. */
async function listed(iterable: AsyncIterable<{ path: string }>): Promise<string[] | string> {
  const paths: string[] = []
  try {
    for await (const meta of iterable) paths.push(meta.path)
  } catch (err) {
    return err instanceof StorageError ? err.code : `not a StorageError: ${String(err)}`
  }
  return paths.sort()
}

/** Every file under `dir` (recursively, not following links), with its content. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {}
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name)
    files[path] = entry.isFile() ? await readFile(path, 'utf8') : entry.isDirectory() ? '<dir>' : '<other>'
  }
  return files
}

describe('LocalStore listing stays inside the root', () => {
  let base: string
  let root: string
  let outside: string
  let outsideBefore: Record<string, string>
  let store: LocalStore
  // What the root holds, through the links that stay inside it.
  const inside = [
    'inner-file-link',
    'inner-link/a.txt',
    'inner-link/sub/b.txt',
    'inside/a.txt',
    'inside/sub/b.txt',
    'plain.txt',
    'via-parent',
    'with space.txt',
  ]

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'stowage-local-list-'))
    root = join(base, 'root')
    outside = join(base, 'outside')
    await mkdir(join(outside, 'deep'), { recursive: true })
    await writeFile(join(outside, 'secret.txt'), 'top secret')
    await writeFile(join(outside, 'deep', 'secret2.txt'), 'deeper secret')
    await mkdir(join(root, 'inside', 'sub'), { recursive: true })
    await writeFile(join(root, 'plain.txt'), 'plain')
    await writeFile(join(root, 'with space.txt'), 'spaced')
    await writeFile(join(root, 'staged.txt#3'), 'an unfinished upload')
    await writeFile(join(root, 'inside', 'a.txt'), 'a')
    await writeFile(join(root, 'inside', 'sub', 'b.txt'), 'b')
    await symlink(outside, join(root, 'dir-link'))
    await symlink('../outside', join(root, 'relative-dir-link'))
    await symlink(join(outside, 'secret.txt'), join(root, 'file-link'))
    await symlink(join(outside, 'deep'), join(root, 'inside', 'deep-link'))
    await symlink(join(base, 'nowhere'), join(root, 'dangling'))
    await symlink(join(root, 'missing'), join(root, 'dangling-inside'))
    await symlink(join(root, 'inside'), join(root, 'inner-link'))
    await symlink(join(root, 'inside', 'a.txt'), join(root, 'inner-file-link'))
    // Leaves the root on the way, but ends inside it.
    await symlink('../root/inside/sub/b.txt', join(root, 'via-parent'))
    outsideBefore = await snapshot(outside)
    store = new LocalStore(root)
  })

  afterAll(() => rm(base, { recursive: true, force: true }))

  it('list yields only what is inside the root', async () => {
    expect(await listed(store.list(''))).toEqual(inside)
    expect(await listed(store.list())).toEqual(inside)
    expect(await listed(store.list('inside'))).toEqual(['inside/a.txt', 'inside/sub/b.txt'])
    expect(await listed(store.list('inner-link'))).toEqual(['inner-link/a.txt', 'inner-link/sub/b.txt'])
  })

  it('list with an offset yields only what is inside the root', async () => {
    expect(await listed(store.list('', { offset: 'a' }))).toEqual(inside)
    expect(await listed(store.list('', { offset: 'inside/a.txt' }))).toEqual(inside.filter((k) => k > 'inside/a.txt'))
    expect(await listed(store.list('inside', { offset: 'inside/a.txt' }))).toEqual(['inside/sub/b.txt'])
  })

  it('listWithDelimiter yields only what is inside the root', async () => {
    const top = await store.listWithDelimiter('')
    expect(top.objects.map((m) => m.path).sort()).toEqual(['inner-file-link', 'plain.txt', 'via-parent', 'with space.txt'])
    expect([...top.commonPrefixes].sort()).toEqual(['inner-link', 'inside'])
    const level = await store.listWithDelimiter('inside')
    expect(level.objects.map((m) => m.path)).toEqual(['inside/a.txt'])
    expect(level.commonPrefixes).toEqual(['inside/sub'])
    const linked = await store.listWithDelimiter('inner-link/')
    expect(linked.objects.map((m) => m.path)).toEqual(['inner-link/a.txt'])
    expect(linked.commonPrefixes).toEqual(['inner-link/sub'])
  })

  it('refuses to list through a link that leaves the root', async () => {
    for (const prefix of ['dir-link', 'dir-link/deep', 'relative-dir-link', 'inside/deep-link', 'file-link']) {
      expect(await listed(store.list(prefix)), prefix).toBe('INVALID_PATH')
      expect(await listed(store.list(prefix, { offset: 'a' })), prefix).toBe('INVALID_PATH')
      expect(await code(store.listWithDelimiter(prefix)), prefix).toBe('INVALID_PATH')
    }
  })

  it('lists a file reached through an inside link with the metadata of its target', async () => {
    const entries: Record<string, { size: number; etag?: string }> = {}
    for await (const meta of store.list('')) entries[meta.path] = meta
    const head = await store.head('inside/a.txt')
    expect(entries['inner-file-link']).toMatchObject({ size: 1, etag: head.etag })
    expect(entries['inner-link/a.txt']).toMatchObject({ size: 1, etag: head.etag })
    expect((await store.head('inner-file-link')).etag).toBe(head.etag)
  })

  it('leaves the outside directory untouched', async () => {
    for await (const _ of store.list('')) void _
    await store.listWithDelimiter('')
    expect(await snapshot(outside)).toEqual(outsideBefore)
  })
})

describe('LocalStore listing with symlink loops', () => {
  let base: string
  let store: LocalStore

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'stowage-local-loop-'))
    for (const dir of ['a', 'b', 'd']) await mkdir(join(base, dir))
    await writeFile(join(base, 'a', 'fa.txt'), 'a')
    await writeFile(join(base, 'b', 'fb.txt'), 'b')
    await writeFile(join(base, 'd', 'x.txt'), 'x')
    await symlink('.', join(base, 'self'))
    await symlink('..', join(base, 'd', 'up'))
    await symlink('../b', join(base, 'a', 'to-b'))
    await symlink('../a', join(base, 'b', 'to-a'))
    await symlink('knot-2', join(base, 'knot-1'))
    await symlink('knot-1', join(base, 'knot-2'))
    store = new LocalStore(base)
  })

  afterAll(() => rm(base, { recursive: true, force: true }))

  it('lists every file once per link path, never going round a loop', async () => {
    expect(await listed(store.list(''))).toEqual(['a/fa.txt', 'a/to-b/fb.txt', 'b/fb.txt', 'b/to-a/fa.txt', 'd/x.txt'])
    expect(await listed(store.list('self'))).toEqual(['self/a/fa.txt', 'self/a/to-b/fb.txt', 'self/b/fb.txt', 'self/b/to-a/fa.txt', 'self/d/x.txt'])
    const top = await store.listWithDelimiter('')
    expect(top.objects).toEqual([])
    expect([...top.commonPrefixes].sort()).toEqual(['a', 'b', 'd'])
    const d = await store.listWithDelimiter('d')
    expect(d.objects.map((m) => m.path)).toEqual(['d/x.txt'])
    expect(d.commonPrefixes).toEqual([])
  })
})
