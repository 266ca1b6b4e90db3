import { defineConfig } from 'tsup'

export default defineConfig({
  entry: { index: 'src/index.ts', 'typeorm/index': 'src/typeorm/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  // One shared chunk keeps a single registry and a single addon load across both entry points.
  splitting: true,
  shims: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  external: ['typeorm', 'reflect-metadata'],
})
