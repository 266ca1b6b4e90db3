// Writes the ESM entry points as thin wrappers over the CommonJS build, so that `import 'stowage'`
// and `require('stowage')` hand out the very same objects: one StorageError, one S3Store, one
// registry, one addon load. (Two builds would make two copies of every class, and an
// `instanceof StorageError` would fail across them.) `npm run build:ts` runs it after tsup
// (tsup's own onSuccess hook would race its declaration build, which deletes every .d.ts first).
//
// The names come from cjs-module-lexer, the parser Node itself uses to give a CommonJS module
// named exports: the ESM entry offers what `import { X } from` a CommonJS build would.
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { init, parse } from 'cjs-module-lexer'

export const ENTRIES = ['index', 'typeorm/index', 'multer/index', 'fastify/index']

export async function writeEsmWrappers(dist) {
  await init()
  const written = {}
  for (const entry of ENTRIES) {
    const cjs = join(dist, `${entry}.cjs`)
    const { exports, reexports } = parse(readFileSync(cjs, 'utf8'))
    if (reexports.length > 0) throw new Error(`${cjs}: unexpected re-exports ${reexports.join(', ')}`)
    const names = exports.filter((name) => name !== '__esModule' && name !== 'default').sort()
    if (names.length === 0) throw new Error(`${cjs}: no exports found`)
    const header = '// The ESM entry re-exports the CommonJS build: one copy of every class (scripts/esm-wrappers.mjs).\n'
    // Loaded with require() rather than `export ... from './index.cjs'`: the same module object
    // either way, but Node 20 reports a failed load twice, once as an uncaught exception, when a
    // CommonJS program import()s an ES module whose static import of CommonJS throws (as it does
    // when the platform package is missing).
    const js =
      `${header}import { createRequire } from 'node:module'\n\n` +
      `const cjs = createRequire(import.meta.url)('./index.cjs')\n\n` +
      `export const {\n${names.map((n) => `  ${n},\n`).join('')}} = cjs\n`
    writeFileSync(join(dist, `${entry}.js`), js)
    writeFileSync(join(dist, `${entry}.d.ts`), `${header}export * from './index.cjs'\n`)
    written[entry] = names
  }
  return written
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..')
  const written = await writeEsmWrappers(process.argv[2] ?? join(root, 'dist'))
  for (const [entry, names] of Object.entries(written)) console.log(`dist/${entry}.js: ${names.length} named exports`)
}
