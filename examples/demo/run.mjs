// `npm run demo`: compiles the TypeScript demo (legacy decorators, as TypeORM needs) with the
// TypeScript compiler already in devDependencies, then runs it against the built package.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import ts from 'typescript'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')
// Inside the package directory, so `import 'stowage'` resolves to this package's own dist/.
const outDir = join(root, '.stowage-demo', '.build')

await mkdir(outDir, { recursive: true })
for (const name of await readdir(here)) {
  if (!name.endsWith('.ts')) continue
  const source = await readFile(join(here, name), 'utf8')
  const { outputText } = ts.transpileModule(source, {
    fileName: name,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      experimentalDecorators: true,
      useDefineForClassFields: false,
      sourceMap: false,
    },
  })
  await writeFile(join(outDir, name.replace(/\.ts$/, '.js')), outputText)
}

const { main } = await import(pathToFileURL(join(outDir, 'app.js')).href)
await main(root)
