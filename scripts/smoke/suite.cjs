// The smoke suite run against an installed stowage (scripts/smoke-install.mjs copies this
// directory into an empty project): no repository files, no Rust toolchain, only the packages.
'use strict'
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Readable, Writable } = require('node:stream')
const { pipeline } = require('node:stream/promises')

/** Runs every check against `stowage` and `typeorm` (the two entry points); returns the counts. */
async function runSuite(label, stowage, typeorm) {
  const results = { passed: 0, failed: 0 }
  const check = async (name, fn) => {
    try {
      await fn()
      results.passed++
      console.log(`  ok   ${label}: ${name}`)
    } catch (error) {
      results.failed++
      console.log(`  FAIL ${label}: ${name}\n${String(error && error.stack || error).replace(/^/gm, '       ')}`)
    }
  }
  const { MemoryStore, LocalStore, StorageError, NotFoundError, AlreadyExistsError, InvalidPathError, fromUrl, storages } = stowage

  await check('memory round trip', async () => {
    const store = new MemoryStore()
    const put = await store.put('a/b.txt', 'hello')
    assert.equal(typeof put, 'object')
    const got = await store.get('a/b.txt')
    assert.equal(await got.text(), 'hello')
    assert.equal(got.meta.size, 5)
    const listed = []
    for await (const meta of store.list('a/')) listed.push(meta.path)
    assert.deepEqual(listed, ['a/b.txt'])
    await store.delete('a/b.txt')
  })

  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'stowage smoke '))
  try {
    await check(`local round trip under ${root}`, async () => {
      // On Windows this root is a native path: a drive letter, backslashes (and a space).
      const store = new LocalStore(path.join(root, 'nested', 'dir'), { mkdir: true })
      await store.put('x/y/z.bin', Buffer.from([1, 2, 3, 4]))
      const onDisk = path.join(root, 'nested', 'dir', 'x', 'y', 'z.bin')
      assert.deepEqual([...fs.readFileSync(onDisk)], [1, 2, 3, 4])
      assert.deepEqual([...(await store.getRange('x/y/z.bin', 1, 3))], [2, 3])
      const meta = await store.head('x/y/z.bin')
      assert.equal(meta.size, 4)
      assert.equal(meta.path, 'x/y/z.bin')
      const listed = await store.listWithDelimiter('x/')
      assert.deepEqual(listed.commonPrefixes, ['x/y'])
      await store.rename('x/y/z.bin', 'moved.bin')
      assert.equal(fs.existsSync(onDisk), false)
      assert.equal((await store.get('moved.bin')).meta.size, 4)
    })

    await check('local store from a file:// URL', async () => {
      const dir = path.join(root, 'url')
      fs.mkdirSync(dir)
      const store = fromUrl(require('node:url').pathToFileURL(dir).href)
      await store.put('k', 'v')
      assert.equal(fs.readFileSync(path.join(dir, 'k'), 'utf8'), 'v')
    })

    await check('streams: createWriteStream then createReadStream (local)', async () => {
      const store = new LocalStore(root)
      const chunk = Buffer.alloc(64 * 1024, 7)
      await pipeline(Readable.from((function* () { for (let i = 0; i < 40; i++) yield chunk })()), store.createWriteStream('big.bin'))
      let total = 0
      await pipeline(store.createReadStream('big.bin'), new Writable({ write(c, _e, cb) { total += c.length; cb() } }))
      assert.equal(total, 40 * chunk.length)
      const got = await store.get('big.bin')
      let streamed = 0
      for await (const c of got.stream()) streamed += c.length
      assert.equal(streamed, total)
    })
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }

  await check('error codes and classes', async () => {
    const store = new MemoryStore()
    const missing = await store.get('nope').catch((e) => e)
    assert.ok(missing instanceof NotFoundError, `got ${missing}`)
    assert.ok(missing instanceof StorageError)
    assert.equal(missing.code, 'NOT_FOUND')
    await store.put('once', 'x')
    const exists = await store.put('once', 'y', { mode: 'create' }).catch((e) => e)
    assert.ok(exists instanceof AlreadyExistsError, `got ${exists}`)
    assert.equal(exists.code, 'ALREADY_EXISTS')
    const invalid = await store.put('a/../b', 'x').catch((e) => e)
    assert.ok(invalid instanceof InvalidPathError, `got ${invalid}`)
    assert.equal(invalid.code, 'INVALID_PATH')
  })

  await check('content checks: file-type (bundled ESM) and image-size load from the package', async () => {
    const { FileObject, FileValidationError } = stowage
    storages.register('smoke-content', new MemoryStore(), { replace: true })
    try {
      // A 1x1 greyscale PNG.
      const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNoAAAAggCBd81ytgAAAABJRU5ErkJggg==', 'base64')
      const limits = { allowedContentTypes: ['image/*'], maxImageWidth: 1, maxImageHeight: 1 }
      const saved = await new FileObject({ backend: 'smoke-content', filename: 'dot.png', content: Readable.from([png]) }).save(limits)
      assert.equal(saved.size, png.length)
      const pdf = new FileObject({ backend: 'smoke-content', filename: 'dot.png', content: Buffer.from('%PDF-1.7\n%%EOF\n') })
      const mismatch = await pdf.save(limits).catch((e) => e)
      assert.ok(mismatch instanceof FileValidationError, `got ${mismatch}`)
      assert.equal(mismatch.code, 'CONTENT_MISMATCH')
      const wide = await new FileObject({ backend: 'smoke-content', filename: 'dot.png', content: png }).save({ maxImageWidth: 0 }).catch((e) => e)
      assert.equal(wide.code, 'IMAGE_TOO_LARGE')
    } finally {
      storages.unregister('smoke-content')
    }
  })

  await check('storages.fake swaps a store and restores it', async () => {
    const real = new MemoryStore()
    storages.register('smoke-fake', real, { replace: true })
    try {
      const fake = storages.fake('smoke-fake')
      await storages.get('smoke-fake').put('k', 'v')
      await fake.assertExists('k')
      await assert.rejects(fake.assertMissing('k'), { name: 'AssertionError' })
      fake.restore()
      assert.equal(storages.get('smoke-fake'), real)
    } finally {
      storages.unregister('smoke-fake')
    }
  })

  await check('stowage/typeorm shares the classes and the registry of stowage', async () => {
    assert.equal(typeorm.FileObject, stowage.FileObject)
    assert.equal(typeorm.FileValidationError, stowage.FileValidationError)
    assert.equal(typeorm.storages, storages)
    assert.equal(typeorm.storedObjectColumnType('postgres'), 'jsonb')
    assert.equal(typeof typeorm.StoredObjectSubscriber, 'function')
  })
  return results
}

module.exports = { runSuite }
