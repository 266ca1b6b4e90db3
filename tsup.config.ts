import { defineConfig } from 'tsup'

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'typeorm/index': 'src/typeorm/index.ts',
    'multer/index': 'src/multer/index.ts',
    'fastify/index': 'src/fastify/index.ts',
  },
  // CommonJS only: the ESM entries (dist/index.js, dist/<entry>/index.js and their .d.ts) are
  // wrappers that re-export it, written by scripts/esm-wrappers.mjs after tsup (npm run build:ts),
  // so each class exists once whether the package is required or imported.
  format: ['cjs'],
  dts: true,
  // One shared chunk keeps a single registry and a single addon load across the entry points.
  splitting: true,
  shims: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // The optional peers: loaded from the app's node_modules, never bundled.
  external: ['typeorm', 'reflect-metadata', 'multer', 'fastify', '@fastify/multipart'],
  // file-type is ESM only: bundled, it loads from this CommonJS build on every Node 20 (a
  // require() of it needs 20.19+, and tsup turns a dynamic import() into a require()).
  noExternal: ['file-type'],
  // What scripts/third-party-notices.mjs reads to list the bundled packages' licences in
  // dist/THIRD-PARTY-NOTICES.txt (it removes the metafile afterwards).
  metafile: true,
})
