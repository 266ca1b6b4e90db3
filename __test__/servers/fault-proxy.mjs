// A fault-injecting HTTP proxy for the fault tests, put between a store and an emulator.
//
//   import { startFaultProxy } from './__test__/servers/fault-proxy.mjs'
//   const proxy = await startFaultProxy({ upstream: servers.s3.endpoint, name: 's3' })
//   new S3Store({ ..., endpoint: proxy.url, client: { readTimeout: 1000 } })
//   proxy.failNext('truncate', { match: (r) => r.method === 'GET' })   // a fault on demand
//   proxy.stats                                                        // what it injected
//   await proxy.close()
//
// Requests go upstream unchanged (method, path and query, headers with Host, body), so the
// signatures the emulators verify (s3s-fs: SigV4; Azurite: SharedKey) still hold. On a seeded
// share of requests (`rate`, default 0.2) one fault of FAULT_KINDS is injected instead. The seed
// is printed; STOWAGE_FAULT_SEED=<n> repeats it. Which request gets which fault follows the order
// requests arrive in, so with concurrent requests a seed repeats the mix, not every detail.
// STOWAGE_FAULT_LOG=1 prints each fault. node:http only.
import http from 'node:http'

/**
 * The faults, each a way a connection or server fails:
 * - `reset`: the connection is reset on arrival; nothing reaches the server.
 * - `reset-answer-lost`: the server handles the request, the connection is reset before the
 *   response headers (a write happened, but the client cannot know).
 * - `reset-after-headers`: the headers arrive, then the connection is reset before the body.
 * - `status-500`, `status-503`: an error response instead of the server's.
 * - `truncate`: the headers with the full Content-Length, part of the body, then a reset.
 * - `stall-before-headers`: nothing comes back until the client gives up (or `stallMs` passes).
 * - `stall-mid-body`: the headers and part of the body, then nothing until the client gives up.
 * A fault on the body of an answer without one (a PUT's empty 200) loses the answer instead.
 */
export const FAULT_KINDS = Object.freeze([
  'reset', 'reset-answer-lost', 'reset-after-headers', 'status-500', 'status-503', 'truncate',
  'stall-before-headers', 'stall-mid-body',
])

/** The faults the server never acts on: harmless even to a request that cannot be repeated. */
export const UNSEEN_FAULT_KINDS = Object.freeze(['reset', 'status-500', 'status-503'])

const LOG = process.env.STOWAGE_FAULT_LOG === '1'

let processSeed = null
/** The seed of this process's proxies: STOWAGE_FAULT_SEED, else random; printed once. */
export function faultSeed() {
  if (processSeed === null) {
    const given = process.env.STOWAGE_FAULT_SEED
    processSeed = given !== undefined && given !== '' ? Number(given) >>> 0 : (Math.random() * 2 ** 32) >>> 0
    process.stderr.write(`[fault-proxy] seed ${processSeed} (STOWAGE_FAULT_SEED=${processSeed} repeats it)\n`)
  }
  return processSeed
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
function prng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

/** One seed per proxy from the process seed and the proxy's name, so proxies do not share draws. */
function seedFor(name) {
  let h = faultSeed() ^ 0x9e3779b9
  for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0
  return h
}

/**
 * Starts a proxy to `upstream` (`http://host:port`) on a free loopback port.
 * @param {object} opts
 * @param {string} opts.upstream  where requests go
 * @param {string} [opts.name]    names the proxy in logs and picks its share of the seed
 * @param {number} [opts.rate]    share of requests that get a fault (default 0.2)
 * @param {readonly string[]} [opts.kinds]  the faults drawn from (default FAULT_KINDS)
 * @param {(req: import('node:http').IncomingMessage) => readonly string[]} [opts.kindsFor]
 *   the faults drawn from for one request, narrowing `kinds` (say, only faults the server never
 *   sees for a request that cannot be repeated once it took effect)
 * @param {number} [opts.stallMs] how long a stall lasts at most (default 5000); make it longer
 *   than the client's read timeout, which ends it sooner
 * @returns {Promise<FaultProxy>}
 */
export async function startFaultProxy({
  upstream, name = 'proxy', rate = 0.2, kinds = FAULT_KINDS, kindsFor = () => kinds, stallMs = 5000,
}) {
  for (const k of kinds) if (!FAULT_KINDS.includes(k)) throw new Error(`fault-proxy: unknown fault ${k}`)
  const target = new URL(upstream)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
  const random = prng(seedFor(name))
  const forced = [] // [{ kind, match, times }]
  const stats = { requests: 0, faults: 0, byKind: Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])), events: [] }

  // The same draws for every request whatever is chosen, so one choice does not shift the next.
  const decide = (req) => {
    const roll = random()
    const pick = random()
    const cut = 0.1 + 0.8 * random() // where a body is cut, as a share of its length
    const entry = forced.find((f) => f.match(req))
    if (entry) {
      if (--entry.times === 0) forced.splice(forced.indexOf(entry), 1)
      return { kind: entry.kind, cut }
    }
    const eligible = kindsFor(req).filter((k) => kinds.includes(k))
    if (eligible.length && roll < rate) return { kind: eligible[Math.floor(pick * eligible.length)], cut }
    return { kind: null, cut }
  }

  const server = http.createServer((req, res) => {
    stats.requests++
    const { kind, cut } = decide(req)
    if (kind) {
      stats.faults++
      stats.byKind[kind]++
      stats.events.push({ kind, method: req.method, url: req.url })
      if (LOG) process.stderr.write(`[fault-proxy ${name}] ${kind}: ${req.method} ${req.url}\n`)
    }
    inject(kind, cut, req, res)
  })

  const inject = (kind, cut, req, res) => {
    const drop = () => req.socket.destroy()
    switch (kind) {
      case 'reset':
        return drop()
      case 'status-500':
      case 'status-503':
        return answerWith(kind === 'status-500' ? 500 : 503, req, res)
      default:
        return forward(req, res, (upRes) => deliver(kind, cut, req, res, upRes))
    }
  }

  // Sends `req` upstream as it came; `onResponse` gets the upstream answer.
  const forward = (req, res, onResponse) => {
    const up = http.request({
      host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent,
    })
    let upRes = null
    up.on('response', (r) => {
      upRes = r
      r.on('error', () => req.socket.destroy())
      onResponse(r)
    })
    // A failure on either side ends the exchange on both, as a real proxy would.
    up.on('error', () => req.socket.destroy())
    req.on('error', () => up.destroy())
    // The client went away (a fault, or its read timeout): stop the upstream exchange too,
    // unless it is over (its socket may already serve another request).
    res.on('close', () => {
      if (res.writableFinished || upRes?.complete) return
      up.destroy()
      upRes?.destroy()
    })
    req.pipe(up)
  }

  const deliver = (kind, cut, req, res, upRes) => {
    const lose = () => { upRes.destroy(); req.socket.destroy() }
    const hasBody = req.method !== 'HEAD' && upRes.headers['content-length'] !== '0' && upRes.statusCode !== 204
    switch (kind) {
      case null:
        res.writeHead(upRes.statusCode, upRes.headers)
        return upRes.pipe(res)
      case 'reset-answer-lost':
        return lose()
      case 'reset-after-headers':
        if (!hasBody) return lose()
        res.writeHead(upRes.statusCode, upRes.headers)
        res.flushHeaders()
        upRes.destroy()
        return setImmediate(() => req.socket.destroy())
      case 'stall-before-headers':
        upRes.resume()
        return stall(req)
      case 'truncate':
      case 'stall-mid-body': {
        if (!hasBody) return kind === 'truncate' ? lose() : stall(req)
        const chunks = []
        upRes.on('data', (c) => chunks.push(c))
        upRes.on('end', () => {
          const body = Buffer.concat(chunks)
          // Framed by the full Content-Length even where the server chunked it, so the cut is
          // one the client can tell from the end of the body.
          const { 'transfer-encoding': _chunked, ...headers } = upRes.headers
          res.writeHead(upRes.statusCode, { ...headers, 'content-length': body.length })
          res.write(body.subarray(0, Math.floor(body.length * cut)), () => {
            if (kind === 'truncate') req.socket.destroy()
            else stall(req)
          })
        })
        return
      }
      default:
        throw new Error(`fault-proxy: unhandled fault ${kind}`)
    }
  }

  // Holds the connection silent; the client's read timeout ends it, `stallMs` at the latest.
  const stall = (req) => {
    const timer = setTimeout(() => req.socket.destroy(), stallMs)
    req.socket.once('close', () => clearTimeout(timer))
  }

  // Longer than the clients keep idle connections, so no reset happens that was not injected.
  server.keepAliveTimeout = 120_000
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(undefined))
  })
  // listening on a TCP port, so address() is an AddressInfo (not a pipe's name)
  const url = `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}`

  /** @typedef {object} FaultProxy */
  return {
    /** The proxy's base URL: use it where the upstream's would go (a path is kept as given). */
    url,
    /** `{ requests, faults, byKind, events: [{ kind, method, url }] }`, live. */
    stats,
    /** The share of requests that get a fault; may be changed while running. */
    get rate() { return rate },
    set rate(value) { rate = value },
    /** Inject `kind` into the next `times` requests for which `match(req)` holds, whatever the rate. */
    failNext(kind, { match = () => true, times = 1 } = {}) {
      if (!FAULT_KINDS.includes(kind)) throw new Error(`fault-proxy: unknown fault ${kind}`)
      forced.push({ kind, match, times })
    },
    /** Faults asked for with failNext that no request has taken yet. */
    pendingForced() { return forced.reduce((n, f) => n + f.times, 0) },
    /** Stops the proxy and drops its connections. */
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(() => resolve()))
      agent.destroy()
    },
  }
}

// An error answer as S3 and Azure give one; the request body is read first, as a server would.
function answerWith(status, req, res) {
  const code = status === 503 ? 'SlowDown' : 'InternalError'
  const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected by fault-proxy</Message></Error>`
  req.resume()
  req.on('end', () => {
    res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
}
