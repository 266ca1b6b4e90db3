import { defineConfig } from 'tsup'

export default defineConfig({
  entry: { index: 'src/index.ts', 'typeorm/index': 'src/typeorm/index.ts' },
  // CommonJS only: the ESM entries (dist/index.js, dist/typeorm/index.js and their .d.ts) are
  // wrappers that re-export it, written by scripts/esm-wrappers.mjs after tsup (npm run build:ts),
  // so each class exists once whether the package is required or imported.
  format: ['cjs'],
  dts: true,
  // One shared chunk keeps a single registry and a single addon load across both entry points.
  splitting: true,
  shims: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  external: ['typeorm', 'reflect-metadata'],
  // file-type is ESM only: bundled, it loads from this CommonJS build on every Node 20 (a
  // require() of it needs 20.19+, and tsup turns a dynamic import() into a require()).
  noExternal: ['file-type'],
})
