// `npm run demo`: compiles the TypeScript demo (legacy decorators, as TypeORM needs) with the
// TypeScript compiler already in devDependencies, then runs it against the built package.
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { transpileExample } from '../transpile.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')
// Inside the package directory, so `import 'stowage'` resolves to this package's own dist/.
const outDir = join(root, '.stowage-demo', '.build')

await transpileExample(here, outDir)
const { main } = await import(pathToFileURL(join(outDir, 'app.js')).href)
await main(root)
