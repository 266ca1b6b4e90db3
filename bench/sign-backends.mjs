// Per-URL presigning rates on GCS and Azure (signing is local: no server is contacted), for
// A/B runs of two builds: node bench/sign-backends.mjs [path/to/dist] [--count N] [--batch N].
// Prints one JSON line: URLs per second for one-at-a-time `signUrl` (awaited in turn) and for
// one `signUrls` call, per backend. Interleave runs of the two builds on a noisy machine.
import { generateKeyPairSync } from 'node:crypto'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const args = process.argv.slice(2)
const option = (name, fallback) => {
  const at = args.indexOf(name)
  return at >= 0 ? Number(args[at + 1]) : fallback
}
const dist = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--')) ?? 'dist'
const count = option('--count', 20_000)
const batch = option('--batch', 20_000)
const stowage = await import(pathToFileURL(resolve(dist, 'index.js')).href)

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const account = JSON.stringify({
  client_email: 'bench@example.iam.gserviceaccount.com', private_key_id: 'id', disable_oauth: true,
  private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
})
const stores = {
  gcs: new stowage.GCSStore({ bucket: 'bench', serviceAccountKey: account, baseUrl: 'http://127.0.0.1:4443' }),
  azure: new stowage.AzureStore({ container: 'bench', useEmulator: true, endpoint: 'http://127.0.0.1:10000/devstoreaccount1' }),
}

async function oneAtATime(store, n) {
  const started = process.hrtime.bigint()
  for (let i = 0; i < n; i++) await store.signUrl('GET', `bench/${i}.bin`, { expiresIn: 3600 })
  return n / (Number(process.hrtime.bigint() - started) / 1e9)
}

async function batched(store, n) {
  const keys = Array.from({ length: n }, (_, i) => `bench/${i}.bin`)
  const started = process.hrtime.bigint()
  await store.signUrls('GET', keys, { expiresIn: 3600 })
  return n / (Number(process.hrtime.bigint() - started) / 1e9)
}

const result = { dist }
for (const [name, store] of Object.entries(stores)) {
  // GCS signs with RSA-2048 (about a millisecond a URL): fewer URLs keep the run short.
  const scale = name === 'gcs' ? 20 : 1
  await oneAtATime(store, Math.ceil(count / scale / 10)) // warm-up
  result[`${name}SignUrl`] = Math.round(await oneAtATime(store, Math.ceil(count / scale)))
  result[`${name}SignUrls`] = Math.round(await batched(store, Math.ceil(batch / scale)))
}
console.log(JSON.stringify(result))
