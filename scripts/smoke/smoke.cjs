// `require` both entry points and run the suite.
'use strict'
const { runSuite } = require('./suite.cjs')

async function main() {
  const stowage = require('stowage')
  const typeorm = require('stowage/typeorm')
  const { passed, failed } = await runSuite('require', stowage, typeorm)
  console.log(`smoke (require): ${passed} passed, ${failed} failed`)
  process.exitCode = failed === 0 ? 0 : 1
}
main()
