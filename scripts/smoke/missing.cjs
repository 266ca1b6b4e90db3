// Run with the platform package removed: the error must be stowage's, naming the package, the
// platform and the fix, under both require and import. Prints the message it checked.
'use strict'
const assert = require('node:assert/strict')

function checkError(error, how) {
  const pkg = process.argv[2]
  assert.ok(error, `${how}: loading stowage did not fail without ${pkg}`)
  assert.equal(error.code, 'ERR_STOWAGE_NATIVE_ADDON', `${how}: ${error.stack}`)
  assert.ok(error.message.includes(pkg), `${how}: the message does not name ${pkg}: ${error.message}`)
  assert.ok(error.message.includes(`${process.platform} ${process.arch}`), `${how}: no platform: ${error.message}`)
  assert.ok(error.message.includes(`npm install ${pkg}@`), `${how}: no fix: ${error.message}`)
  assert.ok(error.message.includes('--include=optional'), `${how}: no fix: ${error.message}`)
  assert.ok(error.cause instanceof Error, `${how}: no cause`)
  assert.equal(error.packageName, pkg)
}

async function main() {
  let required
  try { require('stowage') } catch (e) { required = e }
  checkError(required, 'require')
  let imported
  try { await import('stowage/typeorm') } catch (e) { imported = e }
  checkError(imported, 'import')
  console.log(`  ok   missing ${process.argv[2]}: ${required.message}`)
  console.log(`  ok   cause: ${String(required.cause.message).split('\n')[0]}`)
  console.log('missing platform package: 2 passed, 0 failed')
}
main().catch((e) => { console.log(`  FAIL ${e.stack}`); console.log('missing platform package: 0 passed, 1 failed'); process.exitCode = 1 })
