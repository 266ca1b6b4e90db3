// `npm run app`: compiles the upload app (legacy decorators, as TypeORM needs) with the
// TypeScript compiler already in devDependencies, then starts it against the built package.
//
//   npm run app                          LocalStore in .stowage-upload-app/storage, port 3000
//   STOWAGE_APP_STORE=s3 npm run app     S3: the in-memory emulator (crates/s3-mem-server),
//                                        started here unless STOWAGE_APP_S3_ENDPOINT names one
//
// Env: STOWAGE_APP_PORT (3000), STOWAGE_APP_HOST (127.0.0.1); for S3 with an endpoint of your
// own: STOWAGE_APP_S3_ENDPOINT, STOWAGE_APP_S3_BUCKET, STOWAGE_APP_S3_REGION (us-east-1),
// STOWAGE_APP_S3_ACCESS_KEY_ID, STOWAGE_APP_S3_SECRET_ACCESS_KEY. A browser uploading directly
// to that endpoint needs it to answer CORS for the app's origin (the emulator does).
import { cp, mkdir, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { transpileExample } from '../transpile.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')
const home = join(root, '.stowage-upload-app')
// Inside the package directory, so `import 'stowage'` resolves to this package's own dist/.
const outDir = join(home, '.build')

await rm(outDir, { recursive: true, force: true })
await transpileExample(here, outDir)
// the page is served from next to the app module
await cp(join(here, 'public'), join(outDir, 'public'), { recursive: true })

const { LocalStore, S3Store } = await import('stowage')
const { startApp } = await import(pathToFileURL(join(outDir, 'app.js')).href)

const env = process.env
const kind = env.STOWAGE_APP_STORE ?? 'local'
let store
let storeLabel
let stopEmulator = async () => {}
// the rows are kept as long as the objects are: not past an emulator that keeps them in memory
let databasePath = join(home, 'app.sqlite')
if (kind === 'local') {
  const dir = join(home, 'storage')
  store = new LocalStore(dir, { mkdir: true })
  storeLabel = `LocalStore (${dir})`
} else if (kind === 's3') {
  let s3
  if (env.STOWAGE_APP_S3_ENDPOINT) {
    s3 = {
      endpoint: env.STOWAGE_APP_S3_ENDPOINT,
      bucket: env.STOWAGE_APP_S3_BUCKET,
      region: env.STOWAGE_APP_S3_REGION ?? 'us-east-1',
      accessKeyId: env.STOWAGE_APP_S3_ACCESS_KEY_ID,
      secretAccessKey: env.STOWAGE_APP_S3_SECRET_ACCESS_KEY,
    }
    storeLabel = `S3 (${s3.endpoint}, bucket ${s3.bucket})`
    databasePath = join(home, 'app-s3.sqlite')
  } else {
    // built from the workspace on first use (cargo, a minute or two); its objects live in memory
    const { startServers, stopServers } = await import('../../servers/index.mjs')
    const { s3mem } = await startServers({ only: ['s3mem'] })
    s3 = s3mem
    stopEmulator = stopServers
    databasePath = undefined
    storeLabel = `S3 emulator (s3-mem-server at ${s3.endpoint}, in memory)`
  }
  store = new S3Store({
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    region: s3.region,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    allowHttp: s3.endpoint.startsWith('http:'),
  })
} else {
  console.error(`STOWAGE_APP_STORE=${kind}: expected local or s3`)
  process.exit(2)
}

await mkdir(home, { recursive: true })
const app = await startApp({
  store,
  storeLabel,
  port: Number(env.STOWAGE_APP_PORT ?? 3000),
  host: env.STOWAGE_APP_HOST ?? '127.0.0.1',
  databasePath,
  // unconfirmed direct uploads older than their ticket are cleaned up every minute
  sweepIntervalMs: 60_000,
})
console.log(`upload app on ${app.url} (files: ${storeLabel}; database: ${databasePath ?? 'in memory'}); Ctrl-C stops it`)

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    void app.close().then(stopEmulator).finally(() => process.exit(0))
  })
}
