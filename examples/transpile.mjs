// What `npm run demo` and `npm run app` share: the examples' TypeScript compiled with the
// TypeScript compiler already in devDependencies (legacy decorators, as TypeORM needs), one file
// at a time into plain ES modules, with no type check (tsconfig.json's `tsc --noEmit` does that).
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import ts from 'typescript'

/**
 * Compiles every `.ts` file of `sourceDir` into `outDir` as `.js`.
 * @param {string} sourceDir
 * @param {string} outDir
 */
export async function transpileExample(sourceDir, outDir) {
  await mkdir(outDir, { recursive: true })
  for (const name of await readdir(sourceDir)) {
    if (!name.endsWith('.ts')) continue
    const source = await readFile(join(sourceDir, name), 'utf8')
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
}
