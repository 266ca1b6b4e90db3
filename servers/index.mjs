// Starts real storage servers on free loopback ports: the emulators of the cloud backends' tests
// (__test__/servers/global-setup.mjs) and the benchmark's S3 server (bench/run.mjs).
//
//   import { startServers, stopServers } from './servers/index.mjs'
//   const servers = await startServers({ only: ['s3', 'gcs'] })   // default: all
//   ...
//   await stopServers()
//
// Kinds: s3 (s3s-fs, verifies SigV4 and presigned URLs), s3mem (crates/s3-mem-server: in memory,
// verifies SigV4 and presigned URLs, conditional GET, ListMultipartUploads; what the bench
// measures against), s3moto (moto: ListMultipartUploads, conditional GET; no signature checks),
// gcs (fake-gcs-server behind gcs-xml-shim.mjs), azure (azurite blob), webdav (rclone serve
// webdav). The emulators come from `bash scripts/install-tools.sh`; s3mem is built from the
// workspace by s3-mem-server.mjs when missing or stale (STOWAGE_S3_MEM_SERVER: a prebuilt one).
//
// Each server runs in its own process group under a small bash watchdog that kills the group
// when this Node process goes away (even by SIGKILL); stopServers() and process exit kill the
// groups too. Data dirs live in one temp dir (on /dev/shm when there is one); logs go to files
// whose paths are printed when a server fails to start. Env knobs:
//   STOWAGE_SERVERS_TIMEOUT_MS  per-server startup timeout (default 60000)
//   STOWAGE_SERVERS_KEEP=1      keep the temp dir (data + logs) after stopServers()
//   STOWAGE_TOOLS_DIR           where install-tools.sh put the tools (default <repo>/.tools)
import { spawn } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureS3MemServer } from './s3-mem-server.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(HERE, '..')
const TOOLS = process.env.STOWAGE_TOOLS_DIR || path.join(ROOT, '.tools')

export const ALL_KINDS = ['s3', 's3mem', 's3moto', 'gcs', 'azure', 'webdav']
// Built from this repository rather than installed by install-tools.sh.
const BUILT_KINDS = ['s3mem']
export const BUCKET = 'test-bucket'
export const AZURITE_ACCOUNT = 'devstoreaccount1'
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
const S3_ACCESS_KEY = 'stowage-test'
const S3_SECRET_KEY = 'stowage-test-secret'
const TIMEOUT_MS = Number(process.env.STOWAGE_SERVERS_TIMEOUT_MS || 60_000)

// The watchdog: runs the server as a child of a bash that is the process-group leader, and
// kills the whole group as soon as the Node parent is gone. Exits with the server's status.
const WATCHDOG = `
parent="$1"; shift
"$@" &
child=$!
while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.5; done
if ! kill -0 "$parent" 2>/dev/null; then kill -KILL 0; fi
wait "$child"
`

let state = null // { base, procs: [{name, child, log}], info, envBefore }

function tools() {
  const manifest = path.join(TOOLS, 'manifest.json')
  if (!fs.existsSync(manifest)) {
    throw new Error(`stowage test servers: ${manifest} not found; run \`bash scripts/install-tools.sh\` first`)
  }
  const t = JSON.parse(fs.readFileSync(manifest, 'utf8'))
  // The manifest holds absolute paths; re-root them if the checkout moved.
  const fix = (p) => (fs.existsSync(p) ? p : p.replace(/^.*?\/\.tools\//, `${TOOLS}/`).replace(/^.*?\/node_modules\//, `${ROOT}/node_modules/`))
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, fix(v)]))
}

function tempBase() {
  const shm = '/dev/shm'
  let parent = os.tmpdir()
  try { fs.accessSync(shm, fs.constants.W_OK); parent = shm } catch { /* no writable /dev/shm: the OS temp dir */ }
  return fs.mkdtempSync(path.join(parent, 'stowage-servers-'))
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (srv.address()) // a TCP listener
      srv.close(() => resolve(port))
    })
  })
}

function tail(file, n = 40) {
  try {
    const lines = fs.readFileSync(file, 'utf8').split('\n')
    return lines.slice(-n).join('\n')
  } catch { return '(no log)' }
}

/**
 * @param {string} name
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd?: string, env?: Record<string, string> }} [options]
 */
function spawnServer(name, cmd, args, { cwd, env } = {}) {
  const log = path.join(state.base, 'logs', `${name}.log`)
  const fd = fs.openSync(log, 'a')
  fs.writeSync(fd, `$ ${[cmd, ...args].join(' ')}\n`)
  const child = spawn('bash', ['-c', WATCHDOG, 'watchdog', String(process.pid), cmd, ...args], {
    cwd: cwd ?? state.base,
    env: { ...process.env, ...env },
    stdio: ['ignore', fd, fd],
    detached: true, // own process group: stopServers kills -pgid
  })
  fs.closeSync(fd)
  const p = { name, child, log, exited: null }
  child.on('exit', (code, signal) => { p.exited = { code, signal } })
  child.on('error', (e) => { p.exited = { error: e } })
  state.procs.push(p)
  return p
}

// Polls `probe` until it resolves truthy; fails fast if the process exits.
async function waitReady(p, what, probe) {
  const deadline = Date.now() + TIMEOUT_MS
  let lastErr = null
  while (Date.now() < deadline) {
    if (p.exited) {
      throw new Error(`stowage test servers: ${p.name} exited before it was ready (${JSON.stringify(p.exited)}).\n` +
        `log: ${p.log}\n--- last lines ---\n${tail(p.log)}`)
    }
    try {
      if (await probe()) return
    } catch (e) { lastErr = e }
    await new Promise((r) => setTimeout(r, 150))
  }
  throw new Error(`stowage test servers: ${p.name} not ready after ${TIMEOUT_MS} ms waiting for ${what}` +
    `${lastErr ? ` (last error: ${lastErr.cause?.code ?? lastErr.message})` : ''}.\nlog: ${p.log}\n--- last lines ---\n${tail(p.log)}`)
}

const answers = (url, init) => async () => {
  const r = await fetch(url, { ...init, signal: AbortSignal.timeout(2000) })
  await r.arrayBuffer()
  return r.status > 0
}

// Tries a start function a few times: a port picked by freePort() can be taken in between.
async function withPortRetry(name, start) {
  let last
  for (let attempt = 1; attempt <= 3; attempt++) {
    try { return await start(await freePort()) } catch (e) {
      last = e
      const busy = /address already in use|EADDRINUSE/i.test(e.message)
      if (!busy) throw e
      process.stderr.write(`[stowage servers] ${name}: port busy, retrying (${attempt})\n`)
    }
  }
  throw last
}

// ---------------------------------------------------------------------------------------
async function startS3sFs(t) {
  return withPortRetry('s3s-fs', async (port) => {
    const data = path.join(state.base, `s3s-fs-${port}`)
    fs.mkdirSync(path.join(data, BUCKET), { recursive: true }) // a directory under the root is a bucket
    const p = spawnServer('s3s-fs', t.s3sFs, ['--host', '127.0.0.1', '--port', String(port),
      '--access-key', S3_ACCESS_KEY, '--secret-key', S3_SECRET_KEY, data], { env: { RUST_LOG: process.env.RUST_LOG ?? 'warn' } })
    const endpoint = `http://127.0.0.1:${port}`
    await waitReady(p, `${endpoint}/`, answers(`${endpoint}/`))
    return { kind: 's3s-fs', endpoint, region: 'us-east-1', bucket: BUCKET, accessKeyId: S3_ACCESS_KEY,
      secretAccessKey: S3_SECRET_KEY, allowHttp: true, virtualHostedStyle: false, dataDir: data, log: p.log }
  })
}

// crates/s3-mem-server: objects in memory, the protocol (SigV4, presigned URLs, POST policies)
// from s3s; `--cors` lets a page on another origin (the browser tests) PUT and POST to it.
async function startS3Mem(t) {
  return withPortRetry('s3-mem-server', async (port) => {
    const p = spawnServer('s3-mem-server', t.s3MemServer, ['--host', '127.0.0.1', '--port', String(port),
      '--access-key', S3_ACCESS_KEY, '--secret-key', S3_SECRET_KEY, '--bucket', BUCKET, '--cors'])
    const endpoint = `http://127.0.0.1:${port}`
    await waitReady(p, `${endpoint}/`, answers(`${endpoint}/`))
    return { kind: 's3-mem-server', endpoint, region: 'us-east-1', bucket: BUCKET, accessKeyId: S3_ACCESS_KEY,
      secretAccessKey: S3_SECRET_KEY, allowHttp: true, virtualHostedStyle: false, log: p.log }
  })
}

async function startMoto(t) {
  return withPortRetry('moto', async (port) => {
    const p = spawnServer('moto', t.motoServer, ['-H', '127.0.0.1', '-p', String(port)])
    const endpoint = `http://127.0.0.1:${port}`
    await waitReady(p, `${endpoint}/moto-api/`, answers(`${endpoint}/moto-api/`))
    const info = { kind: 'moto', endpoint, region: 'us-east-1', bucket: BUCKET, accessKeyId: S3_ACCESS_KEY,
      secretAccessKey: S3_SECRET_KEY, allowHttp: true, virtualHostedStyle: false, log: p.log }
    const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3')
    const s3 = new S3Client({ endpoint, region: info.region, forcePathStyle: true,
      credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY } })
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
    s3.destroy()
    return info
  })
}

async function startGcs(t) {
  const fake = await withPortRetry('fake-gcs-server', async (port) => {
    // memory backend (as object_store's CI): the filesystem backend cannot do bucket versioning
    const data = path.join(state.base, `fake-gcs-${port}`)
    fs.mkdirSync(data, { recursive: true })
    const p = spawnServer('fake-gcs-server', t.fakeGcsServer, ['-scheme', 'http', '-host', '127.0.0.1',
      '-port', String(port), '-backend', 'memory',
      '-public-host', `127.0.0.1:${port}`, '-external-url', `http://127.0.0.1:${port}`, '-log-level', 'warn'])
    const url = `http://127.0.0.1:${port}`
    await waitReady(p, `${url}/storage/v1/b`, async () => (await fetch(`${url}/storage/v1/b`, { signal: AbortSignal.timeout(2000) })).ok)
    return { url, data, log: p.log }
  })
  const r = await fetch(`${fake.url}/storage/v1/b`, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: BUCKET, versioning: { enabled: true } }) }) // versioned: reads by generation work
  if (!r.ok) throw new Error(`stowage test servers: creating GCS bucket failed: ${r.status} ${await r.text()}`)

  const shim = await withPortRetry('gcs-xml-shim', async (port) => {
    const p = spawnServer('gcs-xml-shim', process.execPath, [path.join(HERE, 'gcs-xml-shim.mjs'),
      '--port', String(port), '--upstream', fake.url, '--dir', path.join(state.base, `gcs-shim-${port}`)])
    const url = `http://127.0.0.1:${port}`
    await waitReady(p, `${url}/_shim/health`, async () => (await fetch(`${url}/_shim/health`, { signal: AbortSignal.timeout(2000) })).ok)
    return { url, log: p.log }
  })

  // A service-account file the way object_store's CI configures fake-gcs-server, with a real
  // RSA key so that code which signs URLs locally has something to sign with.
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
  const sa = {
    type: 'service_account',
    project_id: 'stowage-test',
    private_key_id: crypto.randomBytes(20).toString('hex'),
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    client_email: 'stowage-test@stowage-test.iam.gserviceaccount.com',
    client_id: '100000000000000000000',
    token_uri: 'https://oauth2.googleapis.com/token',
    gcs_base_url: shim.url,
    disable_oauth: true,
  }
  const serviceAccountPath = path.join(state.base, 'gcs-service-account.json')
  fs.writeFileSync(serviceAccountPath, JSON.stringify(sa, null, 2), { mode: 0o600 })
  return { kind: 'fake-gcs-server', baseUrl: shim.url, bucket: BUCKET, serviceAccountPath,
    serviceAccountKey: JSON.stringify(sa), clientEmail: sa.client_email,
    upstreamUrl: fake.url, shimUploadsUrl: `${shim.url}/_shim/uploads`, log: fake.log, shimLog: shim.log }
}

function azureSharedKey(method, url, headers) {
  const u = new URL(url)
  const h = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v)]))
  const std = ['content-encoding', 'content-language', 'content-length', 'content-md5', 'content-type', 'date',
    'if-modified-since', 'if-match', 'if-none-match', 'if-unmodified-since', 'range']
    .map((k) => (k === 'content-length' && h[k] === '0' ? '' : h[k] ?? ''))
  const xms = Object.keys(h).filter((k) => k.startsWith('x-ms-')).sort().map((k) => `${k}:${h[k]}\n`).join('')
  const params = [...u.searchParams.keys()].map((k) => k.toLowerCase()).sort()
  const res = `/${AZURITE_ACCOUNT}${u.pathname}` + params.map((k) => `\n${k}:${u.searchParams.getAll(k).join(',')}`).join('')
  const sts = [method, ...std].join('\n') + '\n' + xms + res
  const sig = crypto.createHmac('sha256', Buffer.from(AZURITE_KEY, 'base64')).update(sts, 'utf8').digest('base64')
  return `SharedKey ${AZURITE_ACCOUNT}:${sig}`
}

/**
 * A request to azurite, signed with its well-known account key.
 * @param {string} endpoint
 * @param {string} method
 * @param {string} subpath
 * @param {{ headers?: Record<string, string>, body?: string }} [options]
 */
export async function azureRequest(endpoint, method, subpath, { headers = {}, body } = {}) {
  const url = `${endpoint}/${subpath}`
  /** @type {Record<string, string>} */
  const hs = { 'x-ms-date': new Date().toUTCString(), 'x-ms-version': '2021-08-06', ...headers }
  if (body !== undefined) hs['content-length'] = String(Buffer.byteLength(body))
  else if (method === 'PUT') hs['content-length'] = '0'
  hs.authorization = azureSharedKey(method, url, hs)
  return fetch(url, { method, headers: hs, body })
}

async function startAzurite(t) {
  return withPortRetry('azurite', async (port) => {
    const data = path.join(state.base, `azurite-${port}`)
    fs.mkdirSync(data, { recursive: true })
    // in-memory: no --location (azurite refuses both); cwd is its own dir for stray files
    const p = spawnServer('azurite', t.azuriteBlob, ['--blobHost', '127.0.0.1', '--blobPort', String(port),
      '--inMemoryPersistence', '--skipApiVersionCheck', '--loose', '--disableTelemetry'], { cwd: data })
    const blobStorageUrl = `http://127.0.0.1:${port}`
    const endpoint = `${blobStorageUrl}/${AZURITE_ACCOUNT}`
    await waitReady(p, `${endpoint}?comp=list`, answers(`${endpoint}?comp=list`))
    const r = await azureRequest(endpoint, 'PUT', `${BUCKET}?restype=container`)
    if (r.status !== 201 && r.status !== 409) {
      throw new Error(`stowage test servers: creating Azure container failed: ${r.status} ${await r.text()}\nlog: ${p.log}`)
    }
    return { kind: 'azurite', endpoint, blobStorageUrl, account: AZURITE_ACCOUNT, accessKey: AZURITE_KEY,
      container: BUCKET, useEmulator: true,
      connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${endpoint};`,
      log: p.log }
  })
}

async function startWebdav(t) {
  return withPortRetry('rclone-webdav', async (port) => {
    const data = path.join(state.base, `webdav-${port}`)
    fs.mkdirSync(data, { recursive: true })
    const p = spawnServer('rclone-webdav', t.rclone, ['serve', 'webdav', data, '--addr', `127.0.0.1:${port}`,
      '--config', '/dev/null', '--log-level', 'NOTICE'], { env: { RCLONE_CONFIG: '/dev/null' } })
    const url = `http://127.0.0.1:${port}`
    await waitReady(p, `${url}/`, answers(`${url}/`, { method: 'PROPFIND', headers: { depth: '0' } }))
    return { kind: 'rclone', url, dataDir: data, log: p.log }
  })
}

const STARTERS = { s3: startS3sFs, s3moto: startMoto, gcs: startGcs, azure: startAzurite, webdav: startWebdav, s3mem: startS3Mem }

function killGroup(p, signal) {
  try { process.kill(-p.child.pid, signal) } catch { /* the group is already gone */ }
}

function killAllSync() {
  if (!state) return
  for (const p of state.procs) if (!p.exited) killGroup(p, 'SIGKILL')
}

let hooksInstalled = false
function installExitHooks() {
  if (hooksInstalled) return
  hooksInstalled = true
  process.on('exit', killAllSync)
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      killAllSync()
      // nobody else handles it: behave like the default action
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig)
    })
  }
}

/**
 * Starts the servers (all, or the kinds in `only`) and returns their connection details.
 * Also sets process.env.STOWAGE_TEST_SERVERS (JSON of the result) and, when azure runs,
 * AZURITE_BLOB_STORAGE_URL (object_store's emulator mode reads it instead of :10000).
 * @param {{ only?: string[] }} [options]
 */
export async function startServers({ only } = {}) {
  const kinds = only ?? ALL_KINDS
  for (const k of kinds) if (!STARTERS[k]) throw new Error(`stowage test servers: unknown kind ${k} (known: ${ALL_KINDS.join(', ')})`)
  const t = kinds.some((k) => !BUILT_KINDS.includes(k)) ? tools() : {} // the bench needs no install-tools.sh
  // built (when stale) before anything starts: a failed build then leaves nothing to clean up
  if (kinds.includes('s3mem')) t.s3MemServer = await ensureS3MemServer({ log: (msg) => process.stderr.write(`[stowage servers] ${msg}\n`) })
  // checked after the last await, so that two concurrent calls cannot both get past it
  if (state) throw new Error('stowage test servers: already started; call stopServers() first')
  const base = tempBase()
  fs.mkdirSync(path.join(base, 'logs'))
  state = { base, procs: [], info: null, envBefore: {
    STOWAGE_TEST_SERVERS: process.env.STOWAGE_TEST_SERVERS, AZURITE_BLOB_STORAGE_URL: process.env.AZURITE_BLOB_STORAGE_URL } }
  installExitHooks()
  const info = {}
  try {
    const results = await Promise.allSettled(kinds.map(async (k) => { info[k] = await STARTERS[k](t) }))
    const failed = results.filter((r) => r.status === 'rejected')
    if (failed.length) throw new Error(failed.map((r) => r.reason?.message ?? String(r.reason)).join('\n\n'))
  } catch (e) {
    await stopServers({ keep: true })
    e.message += `\n(stowage test servers: data and logs kept in ${base})`
    throw e
  }
  info.tempDir = base
  state.info = info
  process.env.STOWAGE_TEST_SERVERS = JSON.stringify(info)
  if (info.azure) process.env.AZURITE_BLOB_STORAGE_URL = info.azure.blobStorageUrl
  return info
}

/** Stops every server started by startServers() (SIGTERM, then SIGKILL after 3 s). */
export async function stopServers({ keep = process.env.STOWAGE_SERVERS_KEEP === '1' } = {}) {
  if (!state) return
  const { procs, base, envBefore } = state
  await Promise.all(procs.map(async (p) => {
    if (p.exited) return
    killGroup(p, 'SIGTERM')
    const done = new Promise((r) => p.child.once('exit', r))
    const timer = new Promise((r) => setTimeout(r, 3000))
    await Promise.race([done, timer])
    if (!p.exited) { killGroup(p, 'SIGKILL'); await Promise.race([done, new Promise((r) => setTimeout(r, 2000))]) }
  }))
  // the watchdog may already be gone while the server lingers in the group: sweep the groups
  for (const p of procs) killGroup(p, 'SIGKILL')
  for (const [k, v] of Object.entries(envBefore)) { if (v === undefined) delete process.env[k]; else process.env[k] = v }
  state = null
  if (!keep) fs.rmSync(base, { recursive: true, force: true })
}

export function currentServers() { return state?.info ?? null }
