/**
 * Bad arguments get a coded `StorageError`, never a bare `TypeError` or a crash; keys are
 * stored exactly as given or refused; `null` options mean "no options"; empty chunks are
 * harmless. Each case here failed before the hardening issue's fixes.
 */
import { Readable } from 'node:stream'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AzureStore, GCSStore, HTTPStore, LocalStore, MemoryStore, S3Store, StorageError, fromUrl } from '../src/index.js'
import type { Store } from '../src/index.js'

/** The code of a call's failure, or what it did instead. */
async function outcome(run: () => unknown): Promise<string> {
  try {
    const value = run()
    if (value && typeof (value as Promise<unknown>).then === 'function') await (value as Promise<unknown>)
    return 'resolved'
  } catch (err) {
    return err instanceof StorageError ? err.code : `not a StorageError: ${String(err)}`
  }
}

/** Read a Node stream to its end, or to its error's code. */
async function drain(stream: Readable): Promise<string> {
  try {
    const parts: Buffer[] = []
    for await (const part of stream) parts.push(part as Buffer)
    return Buffer.concat(parts).toString()
  } catch (err) {
    return err instanceof StorageError ? err.code : `not a StorageError: ${String(err)}`
  }
}

const offline = { bucket: 'b', region: 'us-east-1', accessKeyId: 'a', secretAccessKey: 's', endpoint: 'http://127.0.0.1:1', allowHttp: true }

let base: string
let roots = 0
const stores: Array<[string, () => Store]> = [
  ['memory', () => new MemoryStore()],
  ['local', () => new LocalStore(join(base, `root-${++roots}`), { mkdir: true })],
]

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'stowage-arguments-'))
})
afterAll(() => rm(base, { recursive: true, force: true }))

describe.each(stores)('arguments on %s', (_name, make) => {
  it('a Symbol or another non-string key is INVALID_PATH in every method', async () => {
    const store = make()
    await store.put('there', 'x')
    for (const bad of [Symbol('k'), 5, {}, null, undefined, () => 'k', ['k']] as unknown as string[]) {
      expect(await outcome(() => store.put(bad, 'x')), `() => store.put(bad, x) ${typeof bad}`).toBe('INVALID_PATH')
      expect(await outcome(() => store.get(bad)), `() => store.get(bad) ${typeof bad}`).toBe('INVALID_PATH')
      expect(await outcome(() => store.getRange(bad, 0, 1)), `() => store.getRange(bad, 0, 1) ${typeof bad}`).toBe('INVALID_PATH')
      expect(await outcome(() => store.getRanges(bad, [[0, 1]])), `() => store.getRanges(bad, [[0, 1]]) ${typeof bad}`).toBe('INVALID_PATH')
      expect(await outcome(() => store.head(bad)), `() => store.head(bad) ${typeof bad}`).toBe('INVALID_PATH')
      if (!Array.isArray(bad)) expect(await outcome(() => store.delete(bad)), `() => store.delete(bad) ${typeof bad}`).toBe('INVALID_PATH')
      expect(await outcome(() => store.delete([bad])), `() => store.delete([bad]) ${typeof bad}`).toBe('INVALID_PATH')
      expect(await outcome(() => store.copy(bad, 'to')), `() => store.copy(bad, to) ${typeof bad}`).toBe('INVALID_PATH')
      expect(await outcome(() => store.copy('there', bad)), `() => store.copy(there, bad) ${typeof bad}`).toBe('INVALID_PATH')
      expect(await outcome(() => store.rename(bad, 'to')), `() => store.rename(bad, to) ${typeof bad}`).toBe('INVALID_PATH')
      expect(await outcome(() => store.signUrl('GET', bad)), `() => store.signUrl(GET, bad) ${typeof bad}`).toBe('INVALID_PATH')
      expect(await drain(store.createReadStream(bad)), `store.createReadStream(bad) ${typeof bad}`).toBe('INVALID_PATH')
      expect(await outcome(() => store.createWriteStream(bad)), `() => store.createWriteStream(bad) ${typeof bad}`).toBe('INVALID_PATH')
    }
    for (const bad of [Symbol('p'), 5, {}] as unknown as string[]) {
      expect(await outcome(async () => { for await (const _ of store.list(bad)); })).toBe('INVALID_PATH')
      expect(await outcome(() => store.listWithDelimiter(bad))).toBe('INVALID_PATH')
    }
    expect(await (await store.get('there')).text()).toBe('x')
  })

  it('a key with a lone surrogate is refused, never stored as U+FFFD', async () => {
    const store = make()
    for (const key of ['a\ud800b', '\ud83d', 'x/\udc00', 'end\ud83d']) {
      expect(await outcome(() => store.put(key, 'x'))).toBe('INVALID_PATH')
      expect(await outcome(() => store.createWriteStream(key))).toBe('INVALID_PATH')
      expect(await outcome(() => store.copy('missing', key))).toBe('INVALID_PATH')
    }
    const listed: string[] = []
    for await (const meta of store.list()) listed.push(meta.path)
    expect(listed.filter((path) => path.includes('\ufffd'))).toEqual([])
    // A well-formed pair is a real character and round-trips.
    await store.put('emoji-\ud83d\ude00', 'ok')
    expect(await (await store.get('emoji-😀')).text()).toBe('ok')
  })

  it('null options mean no options', async () => {
    const store = make()
    await store.put('k', 'value', null)
    expect(await (await store.get('k', null)).text()).toBe('value')
    expect(await drain(store.createReadStream('k', null))).toBe('value')
    await store.copy('k', 'k2', null)
    await store.rename('k2', 'k3', null)
    expect((await store.listWithDelimiter(null, null)).objects.map((o) => o.path).sort()).toEqual(['k', 'k3'])
    const listed: string[] = []
    for await (const meta of store.list(null, null)) listed.push(meta.path)
    expect(listed.sort()).toEqual(['k', 'k3'])
  })

  it('option values of the wrong kind are INVALID_CONFIG', async () => {
    const store = make()
    await store.put('k', 'value')
    const badPuts: unknown[] = [
      'options', 5, [],
      { concurrency: -1 }, { concurrency: 1.5 }, { concurrency: 0 }, { concurrency: 'x' },
      { chunkSize: -1 }, { chunkSize: 0 }, { chunkSize: 1.5 }, { chunkSize: Number.NaN }, { chunkSize: 'x' },
      { metadata: 'x' }, { metadata: { a: 1 } }, { metadata: { a: null } }, { metadata: ['a'] },
      { mode: 'x' }, { mode: 5 }, { mode: {} }, { mode: [] }, { mode: { etag: 5 } },
      { contentType: 5 }, { contentType: 'a\ud800' }, { signal: 'x' }, { onProgress: 'x' },
    ]
    for (const options of badPuts) {
      expect(await outcome(() => store.put('k2', 'x', options as never)), JSON.stringify(options)).toBe('INVALID_CONFIG')
    }
    const badGets: unknown[] = [
      'x', { range: 'x' }, { range: { start: 'a' } }, { range: { start: -1 } }, { range: { start: 1.5 } },
      { range: { start: 0, end: 0 } }, { range: { suffix: -1 } }, { range: {} }, { ifModifiedSince: 'yesterday' },
      { ifModifiedSince: new Date(Number.NaN) }, { ifMatch: 5 }, { signal: {} },
    ]
    for (const options of badGets) {
      expect(await outcome(() => store.get('k', options as never)), JSON.stringify(options)).toBe('INVALID_CONFIG')
    }
    for (const [start, end] of [['a', 1], [0, 'b'], [-1, 1], [0, Number.NaN], [2, 1], [0, Infinity]] as Array<[number, number]>) {
      expect(await outcome(() => store.getRange('k', start, end)), `${start}, ${end}`).toBe('INVALID_CONFIG')
    }
    for (const ranges of [null, 'x', [[0]], [[0, 'a']], [0, 1], [[1, 0]]]) {
      expect(await outcome(() => store.getRanges('k', ranges as never)), JSON.stringify(ranges)).toBe('INVALID_CONFIG')
    }
    for (const data of [5, null, undefined, {}, () => 'x', Symbol('d'), true]) {
      expect(await outcome(() => store.put('k2', data as never)), String(typeof data)).toBe('INVALID_CONFIG')
    }
    expect(await outcome(() => store.put('k2', Readable.from([5])))).toBe('INVALID_CONFIG')
    expect(await outcome(() => store.copy('k', 'k2', { overwrite: 'no' as never }))).toBe('INVALID_CONFIG')
    expect(await outcome(() => store.copy('k', 'k2', 'x' as never))).toBe('INVALID_CONFIG')
    expect(await outcome(async () => { for await (const _ of store.list('', 'x' as never)); })).toBe('INVALID_CONFIG')
    expect(await outcome(() => store.signUrls('GET', 'k' as never))).toBe('INVALID_CONFIG')
    expect(await outcome(() => store.signUrl(5 as never, 'k'))).not.toMatch(/^not a StorageError/)
    expect(await drain(store.createReadStream('k', { start: 'a' as never }))).toBe('INVALID_CONFIG')
    expect(await drain(store.createReadStream('k', 'x' as never))).toBe('INVALID_CONFIG')
    expect(await outcome(() => store.createWriteStream('k2', { concurrency: -1 }))).toBe('INVALID_CONFIG')
    // Nothing was written by any refused call.
    expect(await outcome(() => store.head('k2'))).toBe('NOT_FOUND')
  })

  it('empty chunks anywhere in a stream are harmless', async () => {
    const store = make()
    const empty = Buffer.alloc(0)
    const cases: Array<[Array<Buffer | string>, string]> = [
      [[empty, Buffer.from('x')], 'x'],
      [[Buffer.from('a'), empty, empty, Buffer.from('b'), empty], 'ab'],
      [[empty], ''],
      [[empty, '', empty], ''],
      [[], ''],
    ]
    for (const [chunks, expected] of cases) {
      await store.put('e', Readable.from(chunks))
      expect(await (await store.get('e')).text()).toBe(expected)
      await store.put('e2', (async function* () { yield* chunks.map((chunk) => Buffer.from(chunk)) })(), { chunkSize: 1 })
      expect(await (await store.get('e2')).text()).toBe(expected)
      const writable = store.createWriteStream('e3')
      await new Promise<void>((resolve, reject) => {
        writable.on('error', reject).on('finish', resolve)
        for (const chunk of chunks) writable.write(chunk)
        writable.end()
      })
      expect(await (await store.get('e3')).text()).toBe(expected)
    }
  })
})

describe('store constructors', () => {
  it('null options mean no options', async () => {
    const store = fromUrl('memory://', null)
    await store.put('k', 'v')
    expect(await (await store.get('k')).text()).toBe('v')
    const local = new LocalStore(join(base, 'ctor'), { mkdir: true })
    expect(String(local)).toContain('LocalStore')
    expect(String(new LocalStore(join(base, 'ctor'), null))).toContain('LocalStore')
    expect(String(new S3Store({ ...offline }))).toContain('S3Store')
    // No bucket anywhere: refused for that reason, not for the null.
    const saved = process.env.AWS_BUCKET
    delete process.env.AWS_BUCKET
    try {
      const err = await outcome(() => new S3Store(null))
      expect(err).toBe('INVALID_CONFIG')
    } finally {
      if (saved !== undefined) process.env.AWS_BUCKET = saved
    }
  })

  it('bad options are INVALID_CONFIG, never a bare TypeError', async () => {
    const cases: Array<[string, () => unknown]> = [
      ["client: 'x'", () => new S3Store({ ...offline, client: 'x' as never })],
      ['client: 5', () => new GCSStore({ bucket: 'b', client: 5 as never })],
      ['retry.maxRetries: -1', () => new S3Store({ ...offline, retry: { maxRetries: -1 } })],
      ['retry.maxRetries: 1.5', () => new S3Store({ ...offline, retry: { maxRetries: 1.5 } })],
      ["retry: 'x'", () => new AzureStore({ useEmulator: true, container: 'c', retry: 'x' as never })],
      ["retry.backoff: 'x'", () => new S3Store({ ...offline, retry: { backoff: 'x' as never } })],
      ["options 'x'", () => new S3Store('x' as never)],
      ['HTTPStore(5)', () => new HTTPStore(5 as never)],
      ["HTTPStore options 'x'", () => new HTTPStore('http://127.0.0.1:1', 'x' as never)],
      ['LocalStore(5)', () => new LocalStore(5 as never)],
      ['fromUrl(5)', () => fromUrl(5 as never)],
      ['fromUrl(Symbol)', () => fromUrl(Symbol('u') as never)],
      ["fromUrl options 'x'", () => fromUrl('memory://', 'x' as never)],
      ['fromUrl option object', () => fromUrl('memory://', { a: {} as never })],
    ]
    for (const [name, run] of cases) expect(await outcome(run), name).toBe('INVALID_CONFIG')
  })

  it('expiresIn outside (0, 7 days] is INVALID_CONFIG', async () => {
    const store = new S3Store(offline)
    for (const expiresIn of [0, -1, 1.5, Number.NaN, Infinity, 7 * 86400 + 1, 'x']) {
      expect(await outcome(() => store.signUrl('GET', 'k', { expiresIn: expiresIn as number })), String(expiresIn)).toBe('INVALID_CONFIG')
    }
    expect(await store.signUrl('GET', 'k', { expiresIn: 7 * 86400 })).toContain('X-Amz-Expires=604800')
    expect(await store.signUrl('GET', 'k', null)).toContain('X-Amz-Expires=3600')
  })
})
