// `import` both entry points, check they are the objects `require` gives, and run the suite.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import * as stowage from 'stowage'
import * as typeorm from 'stowage/typeorm'
import * as multerEntry from 'stowage/multer'
import * as fastifyEntry from 'stowage/fastify'
import { StorageError, MemoryStore } from 'stowage'

const require = createRequire(import.meta.url)
const { runSuite } = require('./suite.cjs')
const required = require('stowage')
const requiredTypeorm = require('stowage/typeorm')
// The web entry points load without their optional peers (multer, fastify): only their
// handlers need them, when made.
const requiredWeb = { multer: require('stowage/multer'), fastify: require('stowage/fastify') }
const importedWeb = { multer: multerEntry, fastify: fastifyEntry }

const { passed, failed } = await runSuite('import', stowage, typeorm)
let same = 0
try {
  assert.deepEqual(Object.keys(stowage).sort(), Object.keys(required).filter((k) => k !== '__esModule').sort())
  assert.deepEqual(Object.keys(typeorm).sort(), Object.keys(requiredTypeorm).filter((k) => k !== '__esModule').sort())
  for (const name of Object.keys(stowage)) { assert.equal(stowage[name], required[name], name); same++ }
  for (const name of Object.keys(typeorm)) { assert.equal(typeorm[name], requiredTypeorm[name], name); same++ }
  for (const [entry, imported] of Object.entries(importedWeb)) {
    assert.deepEqual(Object.keys(imported).sort(), Object.keys(requiredWeb[entry]).filter((k) => k !== '__esModule').sort())
    for (const name of Object.keys(imported)) { assert.equal(imported[name], requiredWeb[entry][name], `${entry}.${name}`); same++ }
  }
  assert.equal(typeof multerEntry.multerStorage({ backend: 'x' })._handleFile, 'function')
  assert.equal(typeof fastifyEntry.saveMultipartFile, 'function')
  // An error made by the imported build is an instance of the required build's class.
  const error = await new MemoryStore().get('missing').catch((e) => e)
  assert.ok(error instanceof required.StorageError && error instanceof StorageError)
  console.log(`  ok   import: all ${same} exports of the four entry points are the very objects require gives`)
  console.log(`smoke (import): ${passed + 1} passed, ${failed} failed`)
  process.exitCode = failed === 0 ? 0 : 1
} catch (error) {
  console.log(`  FAIL import: the same objects as require's\n${error.stack}`)
  console.log(`smoke (import): ${passed} passed, ${failed + 1} failed`)
  process.exitCode = 1
}
