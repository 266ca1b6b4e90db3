/**
 * The HTTP client of a store's own requests (Rust: backends/hyper_client): an S3 store's
 * signed bucket requests, and an HTTP store's (GCS and Azure use it the same way; their
 * suites run on it), against scripted servers that record what arrives: the headers every request carries,
 * redirects followed as reqwest follows them, the read and whole-request timeouts, TLS
 * (a self-signed certificate refused unless `allowInvalidCertificates`), HTTP/2, and a
 * proxy, which reqwest's client still speaks to.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createSecureServer } from 'node:http2'
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { HTTPStore, S3Store } from '../../src/index.js'
import type { S3Options } from '../../src/index.js'
import { rejectsWith } from './helpers.js'

interface Seen { method: string; url: string; headers: Record<string, string | string[] | undefined>; body: Buffer; httpVersion: string }
type Request = IncomingMessage | Http2ServerRequest
type Answer = ServerResponse | Http2ServerResponse
/** How a server answers a request, HTTP/1 or HTTP/2. */
type Reply<Q extends Request = Request, S extends Answer = Answer> = (req: Q, res: S, seen: Seen) => void
type Closable = { close: (cb?: (err?: Error) => void) => unknown; closeAllConnections?: () => void }

const open: Closable[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((server) => new Promise<void>((resolve) => {
    server.closeAllConnections?.()
    server.close(() => resolve())
  })))
})

/** What a successful HEAD or PUT of an S3 object answers. */
function objectHeaders(res: Answer, length = 3): void {
  res.setHeader('ETag', '"abc"')
  res.setHeader('Last-Modified', 'Tue, 01 Dec 2026 10:00:00 GMT')
  res.setHeader('Content-Length', String(length))
}

function ok(_req: Request, res: Answer): void {
  objectHeaders(res, 0)
  res.end()
}

/** Records each request, body included, then answers it with `reply`. */
function recording<Q extends Request, S extends Answer>(reply: Reply<Q, S>, seen: Seen[]) {
  return (req: Q, res: S) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const entry: Seen = { method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers }, body: Buffer.concat(chunks), httpVersion: req.httpVersion }
      seen.push(entry)
      reply(req, res, entry)
    })
  }
}

async function listen(server: { listen: (port: number, host: string, cb: () => void) => unknown; address: () => AddressInfo | string | null } & Closable): Promise<number> {
  open.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

/** A plain HTTP server answering with `reply`; its origin and what it has seen. */
async function httpServer(reply: Reply<IncomingMessage, ServerResponse>): Promise<{ origin: string; seen: Seen[] }> {
  const seen: Seen[] = []
  const port = await listen(createServer(recording(reply, seen)))
  return { origin: `http://127.0.0.1:${port}`, seen }
}

function store(endpoint: string, extra: S3Options = {}): S3Store {
  return new S3Store({
    bucket: 'bkt', region: 'us-east-1', endpoint, accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret-example',
    allowHttp: true, retry: { maxRetries: 0 }, ...extra,
  })
}

describe('the S3 bucket client', () => {
  it('sends the user agent, Accept, the default headers and the signature', async () => {
    const server = await httpServer(ok)
    await store(server.origin).head('a.txt')
    await store(server.origin, { client: { userAgent: 'stowage-test/2', defaultHeaders: { 'x-extra': 'one', accept: 'application/xml' } } }).head('a.txt')
    const [plain, configured] = server.seen
    expect(plain!.headers['user-agent']).toMatch(/^object_store\//)
    expect(plain!.headers.accept).toBe('*/*')
    expect(plain!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\//)
    expect(configured!.headers['user-agent']).toBe('stowage-test/2')
    expect(configured!.headers['x-extra']).toBe('one')
    expect(configured!.headers.accept).toBe('application/xml')
    expect(configured!.url).toBe('/bkt/a.txt')
  })

  it('follows a 307 with the same method and body, keeping the signature on the same origin', async () => {
    const server = await httpServer((req, res) => {
      if (req.url === '/bkt/a.txt') {
        res.writeHead(307, { Location: '/bkt/moved/a.txt', 'Content-Length': '0' })
        res.end()
      } else ok(req, res)
    })
    await store(server.origin).put('a.txt', Buffer.from('abc'))
    expect(server.seen.map((s) => [s.method, s.url, s.body.toString()])).toEqual([
      ['PUT', '/bkt/a.txt', 'abc'], ['PUT', '/bkt/moved/a.txt', 'abc'],
    ])
    expect(server.seen[1]!.headers.authorization).toBe(server.seen[0]!.headers.authorization)
    expect(server.seen[1]!.headers.referer).toBe(`${server.origin}/bkt/a.txt`)
  })

  it('leaves the signature off a redirect to another origin', async () => {
    const other = await httpServer(ok)
    const server = await httpServer((_req, res) => {
      res.writeHead(308, { Location: `${other.origin}/elsewhere`, 'Content-Length': '0' })
      res.end()
    })
    await store(server.origin).put('a.txt', Buffer.from('xyz'))
    expect(other.seen.map((s) => [s.method, s.url, s.body.toString()])).toEqual([['PUT', '/elsewhere', 'xyz']])
    expect(other.seen[0]!.headers.authorization).toBeUndefined()
    expect(server.seen[0]!.headers.authorization).toBeDefined()
  })

  it('gives up after ten redirects with a coded error', async () => {
    const server = await httpServer((req, res) => {
      res.writeHead(302, { Location: req.url ?? '/', 'Content-Length': '0' })
      res.end()
    })
    const err = await rejectsWith(store(server.origin).head('loop'), 'GENERIC')
    expect(err.message).toContain('too many redirects')
    expect(server.seen).toHaveLength(11)
  })

  it('refuses an http endpoint with allowHttp off, sending nothing', async () => {
    const server = await httpServer(ok)
    const err = await rejectsWith(store(server.origin, { allowHttp: false }).head('a'), 'GENERIC')
    expect(err.message).toContain('not allowed')
    expect(server.seen).toHaveLength(0)
  })

  it('fails a response whose head does not come within readTimeout', async () => {
    // Never answers: only the read timeout ends the request.
    const server = await httpServer(() => {})
    const err = await rejectsWith(store(server.origin, { client: { readTimeout: 200 } }).head('slow'), 'GENERIC')
    expect(err.message).toMatch(/timed out/)
    expect(server.seen).toHaveLength(1)
  })

  it('fails a body still trickling in when the whole-request timeout passes', async () => {
    // A byte every 50 ms never trips the read timeout; only `timeout` ends it.
    const server = await httpServer((_req, res) => {
      objectHeaders(res, 1_000_000)
      res.flushHeaders()
      const timer = setInterval(() => res.write('x'), 50)
      res.on('close', () => clearInterval(timer))
    })
    const s = store(server.origin, { client: { timeout: 600, readTimeout: 10_000 } })
    const err = await rejectsWith(s.get('trickle').then((r) => r.bytes()), 'GENERIC')
    expect(err.message).toMatch(/timed out/)
  })

  it('fails a body that stalls for readTimeout, and reads one that keeps coming', async () => {
    const server = await httpServer((req, res) => {
      objectHeaders(res, 6)
      res.flushHeaders()
      // Three bytes now; for "stall" no more, for "steady" three more after 150 ms.
      res.write('abc')
      if (req.url?.endsWith('steady')) setTimeout(() => res.end('def'), 150)
    })
    const s = store(server.origin, { client: { readTimeout: 400 } })
    expect((await (await s.get('steady')).bytes()).toString()).toBe('abcdef')
    const err = await rejectsWith(s.get('stall').then((r) => r.bytes()), 'GENERIC')
    expect(err.message).toMatch(/timed out/)
  })

  it('goes through a configured proxy', async () => {
    // The proxy answers itself: what matters is that the request came to it, in absolute form.
    const proxy = await httpServer(ok)
    await store('http://bucket-host.invalid:9000', { client: { proxyUrl: proxy.origin } }).head('via-proxy')
    expect(proxy.seen.map((s) => s.url)).toEqual(['http://bucket-host.invalid:9000/bkt/via-proxy'])
    expect(proxy.seen[0]!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256/)
  })

  it('goes through the proxy the environment names for its endpoint, unless NO_PROXY excludes it', async () => {
    // The addon reads the process's environment (vitest runs each file in a process of its own).
    const names = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy']
    const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]))
    const proxy = await httpServer(ok)
    const server = await httpServer(ok)
    try {
      for (const name of names) delete process.env[name]
      process.env.HTTP_PROXY = proxy.origin
      await store('http://bucket-host.invalid:9000').head('env-proxied')
      process.env.NO_PROXY = '127.0.0.1'
      await store(server.origin).head('not-proxied')
    } finally {
      for (const name of names) {
        if (saved[name] === undefined) delete process.env[name]
        else process.env[name] = saved[name]
      }
    }
    expect(proxy.seen.map((s) => s.url)).toEqual(['http://bucket-host.invalid:9000/bkt/env-proxied'])
    expect(server.seen.map((s) => s.url)).toEqual(['/bkt/not-proxied'])
  })
})

describe('the HTTP store client', () => {
  it('sends the user agent and default headers, and follows a redirect of a GET', async () => {
    const server = await httpServer((req, res) => {
      if (req.url === '/dav/a.txt') {
        res.writeHead(307, { Location: '/dav/b.txt', 'Content-Length': '0' })
        res.end()
      } else {
        objectHeaders(res, 5)
        res.end('hello')
      }
    })
    const store = new HTTPStore(`${server.origin}/dav`, { client: { defaultHeaders: { 'x-extra': 'two' } }, retry: { maxRetries: 0 } })
    expect((await (await store.get('a.txt')).bytes()).toString()).toBe('hello')
    expect(server.seen.map((s) => [s.method, s.url])).toEqual([['GET', '/dav/a.txt'], ['GET', '/dav/b.txt']])
    expect(server.seen.every((s) => s.headers['x-extra'] === 'two' && /^object_store\//.test(String(s.headers['user-agent'])))).toBe(true)
    expect(server.seen[1]!.headers.referer).toBe(`${server.origin}/dav/a.txt`)
  })

  it('fails a response whose head does not come within readTimeout', async () => {
    const server = await httpServer(() => {})
    const store = new HTTPStore(`${server.origin}/dav`, { client: { readTimeout: 200 }, retry: { maxRetries: 0 } })
    const err = await rejectsWith(store.get('slow'), 'GENERIC')
    expect(err.message).toMatch(/timed out/)
  })
})

describe('the S3 bucket client over TLS', () => {
  let dir: string
  let tls: { key: Buffer; cert: Buffer }
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'stowage-tls-'))
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' })
    tls = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('refuses a certificate it cannot verify, and accepts it with allowInvalidCertificates', async () => {
    const seen: Seen[] = []
    const port = await listen(createHttpsServer(tls, recording(ok, seen)))
    const endpoint = `https://127.0.0.1:${port}`
    const err = await rejectsWith(store(endpoint).head('a'), 'GENERIC')
    expect(err.message).toMatch(/certificate|UnknownIssuer|invalid peer/i)
    expect(seen).toHaveLength(0)
    await store(endpoint, { client: { allowInvalidCertificates: true } }).head('a')
    expect(seen.map((s) => [s.method, s.url, s.httpVersion])).toEqual([['HEAD', '/bkt/a', '1.1']])
  })

  it('speaks HTTP/2 with http2Only, bodies both ways', async () => {
    const seen: Seen[] = []
    const reply: Reply = (req, res) => {
      if (req.method === 'GET') {
        objectHeaders(res, 5)
        res.end('hello')
      } else ok(req, res)
    }
    const h2 = createSecureServer({ ...tls, allowHTTP1: false }, recording(reply, seen))
    // An HTTP/2 server closes once its sessions have: the client keeps its connection pooled.
    const sessions: Array<{ destroy: () => void }> = []
    h2.on('session', (session) => sessions.push(session))
    const port = await listen(Object.assign(h2, { closeAllConnections: () => sessions.forEach((session) => session.destroy()) }))
    const s = store(`https://127.0.0.1:${port}`, { client: { allowInvalidCertificates: true, http2Only: true } })
    await s.put('h2.txt', Buffer.from('over h2'))
    expect((await (await s.get('h2.txt')).bytes()).toString()).toBe('hello')
    expect(seen.map((r) => [r.method, r.httpVersion, r.body.toString()])).toEqual([['PUT', '2.0', 'over h2'], ['GET', '2.0', '']])
  })
})
