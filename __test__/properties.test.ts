/**
 * Property-based tests (fast-check) over the store API on memory, local and S3 (s3s-fs).
 *
 * Random keys (valid and invalid: unicode, lone surrogates, control characters, 2 000
 * characters, `.`/`..` and empty segments, values that are not strings at all), random
 * ranges, random option values and arguments of the wrong type. The properties:
 * - every call settles within 5 s;
 * - it succeeds with an exact round trip, or fails with a `StorageError` whose `code` is one
 *   of the documented codes (and exactly `INVALID_PATH` for a key the rules refuse);
 * - nothing panics in Rust (a caught panic still rejects, but it is a bug);
 * - nothing appears outside a LocalStore root: a sentinel directory beside it stays as it was.
 * The process not crashing is checked by the runner: vitest runs each file in a child process
 * (its `forks` pool), and an unhandled rejection fails the run.
 *
 * The seed is fixed (`STOWAGE_FC_SEED` overrides it) and printed with any counterexample.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalStore, MemoryStore, StorageError } from '../src/index.js'
import type { Store } from '../src/index.js'
import { makeS3, uniquePrefix, useServers } from './cloud/helpers.js'

const SEED = Number(process.env.STOWAGE_FC_SEED ?? 20261201)
const SETTLE_MS = 5000
const DOCUMENTED_CODES = new Set([
  'NOT_FOUND', 'ALREADY_EXISTS', 'PRECONDITION_FAILED', 'NOT_MODIFIED', 'PERMISSION_DENIED', 'UNAUTHENTICATED',
  'INVALID_PATH', 'NOT_SUPPORTED', 'INVALID_CONFIG', 'ABORTED', 'GENERIC',
])

/** What a call did: its value, or the code it failed with. Anything else fails the property. */
type Outcome<T> = { ok: true; value: T } | { ok: false; code: string; error: StorageError }

/** Run `call`, requiring it to settle within 5 s, and to fail only with a documented code. */
async function settle<T>(what: string, call: () => T | Promise<T>): Promise<Outcome<T>> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${SETTLE_MS} ms`)), SETTLE_MS)
  })
  try {
    const value = await Promise.race([Promise.resolve().then(call), timeout])
    return { ok: true, value }
  } catch (err) {
    if (err instanceof Error && err.message.includes('did not settle')) throw err
    if (!(err instanceof StorageError)) throw new Error(`${what} failed with a ${kindOf(err)}, not a StorageError`, { cause: err })
    if (!DOCUMENTED_CODES.has(err.code)) throw new Error(`${what} failed with the undocumented code ${err.code}`, { cause: err })
    // A caught panic is still a bug: the input deserved a proper answer.
    if (err.message.includes('(panic)')) throw new Error(`${what} panicked in Rust: ${err.message}`, { cause: err })
    return { ok: false, code: err.code, error: err }
  } finally {
    clearTimeout(timer)
  }
}

function kindOf(err: unknown): string {
  return err instanceof Error ? `${err.constructor.name}: ${err.message}` : typeof err
}

/** The key rules every store applies (README "Limits and guarantees"). */
function keyIsValid(key: unknown): key is string {
  if (typeof key !== 'string' || key === '' || !key.isWellFormed()) return false
  // eslint-disable-next-line no-control-regex -- the rule itself: control characters are refused
  if (/[\u0000-\u001f\u007f]/.test(key)) return false
  return key.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..')
}

/**
 * Keys a backend may still refuse for its own limits: a file name longer than 255 bytes
 * (LocalStore), a key longer than 1 024 bytes (S3). Those may fail with any documented code.
 */
function withinBackendLimits(key: string): boolean {
  return Buffer.byteLength(key) <= 1000 && key.split('/').every((segment) => Buffer.byteLength(segment) <= 200)
}

const segmentChars = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...'abcxyz019-_.~%+ =@#&!()[],;é日本ü😀'.split('')) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 3 }) },
)
const segment = fc.string({ unit: segmentChars, minLength: 1, maxLength: 12 })
const validKey = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/')).filter(keyIsValid)
const anyKey: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 1, arbitrary: fc.tuple(validKey, fc.constantFrom('#1', '#09', '#', '#x', '#1#2')).map(([k, s]) => `${k}${s}`) },
  { weight: 8, arbitrary: validKey },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) }, // lone surrogates among them
  { weight: 2, arbitrary: fc.tuple(validKey, fc.constantFrom('\u0000', '\n', '\u001f', '\u007f', '\ud800', '\udfff', '\ud83d')).map(([k, c]) => `${k}${c}x`) },
  { weight: 2, arbitrary: fc.constantFrom('', '/', '/a', 'a/', 'a//b', '.', '..', 'a/./b', 'a/../b', '../x', './x') },
  { weight: 1, arbitrary: fc.constantFrom('k'.repeat(2000), `${'d'.repeat(150)}/${'f'.repeat(150)}`, `${'é'.repeat(120)}`) },
  { weight: 2, arbitrary: fc.constantFrom(Symbol('key'), 5, 0, null, undefined, {}, [], ['a'], () => 'a', true, 10n) },
)

const contents = fc.uint8Array({ maxLength: 3000 }).map((bytes) => Buffer.from(bytes))

/** Values of every kind, for options and arguments that are sometimes right, mostly wrong. */
const anything: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: -3, max: 6_000_000 }),
  fc.double(),
  fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, 1.5, 2 ** 53, 4294967295, 5 * 1024 * 1024),
  fc.string({ maxLength: 6 }),
  fc.constantFrom('create', 'overwrite', 'update', { etag: 'x' }, { version: 5 }, {}, [], null, undefined, Symbol('v'), () => 1, true),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(fc.string({ maxLength: 4 }), fc.integer())),
)
const putOptions = fc.record(
  {
    chunkSize: anything, concurrency: anything, mode: anything, metadata: anything, contentType: anything,
    cacheControl: anything, contentLength: anything, signal: anything, onProgress: anything,
  },
  { requiredKeys: [] },
)
const getOptions = fc.record(
  {
    range: fc.oneof(anything, fc.record({ start: anything, end: anything }, { requiredKeys: [] }), fc.record({ suffix: anything })),
    ifMatch: anything, ifNoneMatch: anything, ifModifiedSince: fc.oneof(anything, fc.date()), version: anything, signal: anything,
  },
  { requiredKeys: [] },
)
const rangeBound = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: -2, max: 3100 }) }, { weight: 1, arbitrary: anything })

/**
 * Every property for one store. Each string key is put under a directory of its own run, so
 * no run sees another's objects (`base` keeps a shared server's tests apart too).
 */
function storeProperties(
  make: () => Store,
  { runs, base = 'p', refuses = () => false }: { runs: number; base?: string; refuses?: (key: string) => boolean },
) {
  let run = 0
  const scoped = (key: unknown) => (typeof key === 'string' ? `${base}-${++run}/${key}` : key)

  it('a key is stored exactly as given, or refused with INVALID_PATH when the rules refuse it', async () => {
    const store = make()
    await fc.assert(fc.asyncProperty(anyKey, contents, async (rawKey, data) => {
      const key = scoped(rawKey)
      const put = await settle('put', () => store.put(key as string, data))
      if (!keyIsValid(key) || refuses(key)) {
        expect(put.ok ? 'resolved' : put.code, `put(${JSON.stringify(String(key))})`).toBe('INVALID_PATH')
        return
      }
      if (!put.ok) {
        expect(withinBackendLimits(key), `put(${JSON.stringify(key)}) failed: ${put.error.message}`).toBe(false)
        return
      }
      const got = await settle('get', async () => (await store.get(key)).bytes())
      expect(got.ok && Buffer.compare(got.value, data) === 0, 'get returns the bytes put').toBe(true)
      const head = await settle('head', () => store.head(key))
      expect(head.ok && head.value.path === key && head.value.size === data.length).toBe(true)
      const listed = await settle('list', async () => {
        const keys: string[] = []
        for await (const meta of store.list(key.includes('/') ? key.slice(0, key.lastIndexOf('/')) : undefined)) keys.push(meta.path)
        return keys
      })
      expect(listed.ok && listed.value.includes(key), `list shows ${JSON.stringify(key)} as it was given`).toBe(true)
      expect((await settle('delete', () => store.delete(key))).ok).toBe(true)
      const gone = await settle('head after delete', () => store.head(key))
      expect(gone.ok ? 'present' : gone.code).toBe('NOT_FOUND')
    }), { seed: SEED, numRuns: runs })
  }, 180_000)

  it('ranges: an exact slice of the object, or a coded failure', async () => {
    const store = make()
    await fc.assert(fc.asyncProperty(contents, rangeBound, rangeBound, async (data, start, end) => {
      const key = scoped('range/object') as string
      await store.put(key, data)
      const range = await settle('getRange', () => store.getRange(key, start as number, end as number))
      const wellFormed = Number.isSafeInteger(start) && Number.isSafeInteger(end) && (start as number) >= 0 && (end as number) > (start as number)
      if (!wellFormed) {
        expect(range.ok ? 'resolved' : range.code).toBe('INVALID_CONFIG')
        return
      }
      if (range.ok) expect(Buffer.compare(range.value, data.subarray(start as number, end as number))).toBe(0)
      else expect((start as number) >= data.length || (end as number) > data.length, range.error.message).toBe(true)
      const ranges = await settle('getRanges', () => store.getRanges(key, [[start as number, end as number], [0, 1]]))
      if (ranges.ok) expect(Buffer.compare(ranges.value[0]!, data.subarray(start as number, end as number))).toBe(0)
    }), { seed: SEED, numRuns: runs })
  }, 180_000)

  it('random option values: an exact round trip or a coded failure, nothing half-written', async () => {
    const store = make()
    await fc.assert(fc.asyncProperty(validKey, contents, putOptions, getOptions, fc.boolean(), async (rawKey, data, put, get, streamed) => {
      const key = scoped(rawKey) as string
      const body = streamed ? Readable.from([data.subarray(0, 100), data.subarray(100)]) : data
      const written = await settle('put', () => store.put(key, body, put as never))
      const stored = await settle('head', () => store.head(key))
      if (!written.ok) {
        // A refused put leaves nothing behind (every run writes a key of its own).
        // (A key this store refuses is refused by `head` too.)
        const expected = refuses(key) ? 'INVALID_PATH' : 'NOT_FOUND'
        expect(stored.ok ? 'present' : stored.code, `after a put refused with ${written.code}`).toBe(expected)
        return
      }
      expect(stored.ok && stored.value.size === data.length, 'the object has the size put').toBe(true)
      const read = await settle('get', async () => {
        const result = await store.get(key, get as never)
        return { bytes: await result.bytes(), range: result.range }
      })
      if (read.ok) {
        const { start, end } = read.value.range
        expect(Buffer.compare(read.value.bytes, data.subarray(start, end))).toBe(0)
      }
      await store.delete(key)
    }), { seed: SEED, numRuns: runs })
  }, 180_000)

  it('arguments of the wrong type, in every method: a coded failure or a correct success, never a crash', async () => {
    const store = make()
    const methods: Array<[string, (a: unknown, b: unknown, c: unknown) => unknown]> = [
      ['put', (a, b, c) => store.put(a as never, b as never, c as never)],
      ['get', (a, b) => store.get(a as never, b as never).then((r) => r.bytes())],
      ['getRange', (a, b, c) => store.getRange(a as never, b as never, c as never)],
      ['getRanges', (a, b) => store.getRanges(a as never, b as never)],
      ['head', (a) => store.head(a as never)],
      ['delete', (a) => store.delete(a as never)],
      ['copy', (a, b, c) => store.copy(a as never, b as never, c as never)],
      ['rename', (a, b, c) => store.rename(a as never, b as never, c as never)],
      ['signUrl', (a, b, c) => store.signUrl(a as never, b as never, c as never)],
      ['signUrls', (a, b, c) => store.signUrls(a as never, b as never, c as never)],
      ['list', async (a, b) => { for await (const _ of store.list(a as never, b as never)); }],
      ['listWithDelimiter', (a, b) => store.listWithDelimiter(a as never, b as never)],
      ['createReadStream', async (a, b) => { for await (const _ of store.createReadStream(a as never, b as never)); }],
      ['createWriteStream', (a, b) => new Promise((resolve, reject) => {
        const writable = store.createWriteStream(a as never, b as never)
        writable.on('error', reject).on('finish', resolve)
        writable.end('x')
      })],
    ]
    const argument = fc.oneof(anyKey, anything, contents, fc.array(fc.tuple(rangeBound, rangeBound), { maxLength: 3 }), putOptions)
    await fc.assert(fc.asyncProperty(fc.constantFrom(...methods), argument, argument, argument, async ([name, method], a, b, c) => {
      await settle(name, () => method(scoped(a), b, c))
    }), { seed: SEED, numRuns: runs * 2 })
  }, 180_000)
}

describe('properties on memory', () => {
  storeProperties(() => new MemoryStore(), { runs: 300 })
})

describe('properties on local', () => {
  let base: string
  let root: string
  let sentinel: string
  let sentinelBefore: string
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'stowage-properties-'))
    root = join(base, 'root')
    sentinel = join(base, 'sentinel')
    await mkdir(root)
    await mkdir(sentinel)
    await writeFile(join(sentinel, 'untouched.txt'), 'sentinel')
    sentinelBefore = await snapshot(base, ['root'])
  })
  afterAll(async () => {
    // Nothing outside the root changed: the sentinel directory holds exactly what it held.
    expect(await snapshot(base, ['root'])).toBe(sentinelBefore)
    await rm(base, { recursive: true, force: true })
  })
  // LocalFileSystem keeps staging files as `<name>#<digits>`: such file names are refused.
  storeProperties(() => new LocalStore(root), { runs: 200, refuses: (key) => /^[^#]*#\d+$/.test(key.split('/').pop()!) })
})

describe('properties on S3 (s3s-fs)', () => {
  const servers = useServers(['s3'])
  // Quick retries: a key s3s-fs cannot store (a file name over 255 bytes) is a 5xx, which the
  // default backoff would retry for seconds on end.
  const retry = { maxRetries: 2, backoff: { initialDelay: 10, maxDelay: 50 } }
  storeProperties(() => makeS3(servers().s3!, { retry }), { runs: 60, base: uniquePrefix('properties') })
})

/** Every path and file content under `dir` (except the `skip`ped top-level entries), as text. */
async function snapshot(dir: string, skip: string[]): Promise<string> {
  const entries = (await readdir(dir, { recursive: true })).filter((entry) => !skip.some((s) => entry === s || entry.startsWith(`${s}/`))).sort()
  const parts: string[] = []
  for (const entry of entries) {
    const content = await readFile(join(dir, entry)).catch(() => '<dir>')
    parts.push(`${entry}: ${content.toString()}`)
  }
  return parts.join('\n')
}
