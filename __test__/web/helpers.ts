/**
 * Helpers of the web-upload suites: multipart bodies, requests over a keep-alive agent, a
 * LocalStore in a temporary directory and a look at what is on its disk.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { LocalStore, storages } from '../../src/index.js'

/** A secret long enough for the tokens. */
export const SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz'

/** ELF header bytes: an executable, whatever its name says. */
export function elfBytes(size = 4096): Buffer {
  const bytes = randomBytes(size)
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00]).copy(bytes, 0)
  bytes.fill(0, 8, 16)
  bytes.writeUInt16LE(2, 16) // ET_EXEC
  bytes.writeUInt16LE(0x3e, 18) // x86-64
  return bytes
}

/** A valid 1x1 PNG. */
export const PNG_1X1 = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082',
  'hex',
)

/** A `multipart/form-data` body: text fields, then files, in order. */
export function multipartBody(
  parts: Array<{ name: string; value: string } | { name: string; filename: string; contentType: string; data: Buffer }>,
): { body: Buffer; contentType: string } {
  const boundary = `----stowage${randomBytes(8).toString('hex')}`
  const chunks: Buffer[] = []
  for (const part of parts) {
    if ('value' in part) {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"\r\n\r\n${part.value}\r\n`))
    } else {
      chunks.push(Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"; filename="${part.filename}"\r\nContent-Type: ${part.contentType}\r\n\r\n`,
      ))
      chunks.push(part.data, Buffer.from('\r\n'))
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` }
}

/** The JSON bodies the test apps answer with, loosely: the fields the suites read. */
export interface JsonAnswer {
  [field: string]: unknown
  key: string
  size: number
  etag?: string
  checksum: string
  code: string
  field: string
  json: Record<string, unknown>
  error: { code: string; message: string; reason?: string }
}

/** What {@link request} answers. */
export interface Answer {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
  json: () => JsonAnswer
  /** The local port of the connection it went over: the same port means the same connection. */
  localPort: number | undefined
}

/** One request over `agent`, the whole answer read; rejects after `timeoutMs`. */
export function request(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: Buffer; agent?: http.Agent; timeoutMs?: number } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers, agent: init.agent }, (res) => {
      readAnswer(req, res).then(resolve, reject)
    })
    req.setTimeout(init.timeoutMs ?? 15_000, () => req.destroy(new Error(`no answer from ${init.method ?? 'GET'} ${url} within ${init.timeoutMs ?? 15_000} ms`)))
    req.on('error', reject)
    req.end(init.body)
  })
}

/** Posts a multipart body. */
export function postForm(url: string, form: ReturnType<typeof multipartBody>, agent?: http.Agent): Promise<Answer> {
  return request(url, {
    method: 'POST',
    headers: { 'Content-Type': form.contentType, 'Content-Length': String(form.body.byteLength) },
    body: form.body,
    agent,
  })
}

/** The whole answer to `req`, once `res` has ended. */
function readAnswer(req: http.ClientRequest, res: http.IncomingMessage): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    res.on('data', (c: Buffer) => chunks.push(c))
    res.on('error', reject)
    res.on('end', () => {
      const body = Buffer.concat(chunks)
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        body,
        json: () => JSON.parse(body.toString('utf8')) as JsonAnswer,
        localPort: req.socket?.localPort,
      })
    })
  })
}

/**
 * Posts `form` over `agent` in two writes: its first `splitAt` bytes, then — once `between`
 * resolved — the rest. `between` waits for what the app did with the part while the rest of the
 * body was still unsent (and may check the store then), so a refusal it sees was made mid-body.
 * A guard rejects after `guardMs` if `between` has not resolved (the app never acted), so the
 * test fails rather than hangs. Resolves to the answer, the whole body sent.
 */
export async function postFormSplit(
  url: string,
  form: ReturnType<typeof multipartBody>,
  { agent, splitAt, between, guardMs = 15_000 }: { agent: http.Agent; splitAt: number; between: () => Promise<void>; guardMs?: number },
): Promise<Answer> {
  const req = http.request(url, {
    method: 'POST',
    agent,
    headers: { 'Content-Type': form.contentType, 'Content-Length': String(form.body.byteLength) },
  })
  const failed = new Promise<never>((_resolve, reject) => req.on('error', reject))
  failed.catch(() => undefined) // an error before the race below is not unhandled: the race reports it
  const answered = new Promise<Answer>((resolve, reject) => req.on('response', (res) => { readAnswer(req, res).then(resolve, reject) }))
  req.write(form.body.subarray(0, splitAt))
  let timer: NodeJS.Timeout | undefined
  const guard = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`the app did not act on the part within ${guardMs} ms of its first ${splitAt} bytes`)), guardMs)
  })
  try {
    await Promise.race([between(), guard])
  } catch (error) {
    req.destroy()
    throw error
  } finally {
    clearTimeout(timer)
  }
  req.end(form.body.subarray(splitAt))
  return Promise.race([answered, failed])
}

/** A promise and the function that resolves it: a signal from a test app's handler to the test. */
export function signal<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((done) => { resolve = done })
  return { promise, resolve }
}

/** The base URL of a listening `node:http` server. */
export function baseUrl(server: http.Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** A LocalStore in a fresh temporary directory, registered as `name`. */
export function localBackend(name: string): { store: LocalStore; root: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), `stowage-web-${name}-`))
  const store = new LocalStore(root)
  storages.register(name, store, { replace: true })
  return { store, root, cleanup: () => { storages.unregister(name); rmSync(root, { recursive: true, force: true }) } }
}

/** Every file under `root` (staging files included), relative, sorted: what is really on disk. */
export function filesOnDisk(root: string): string[] {
  const found: string[] = []
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) walk(path)
      else found.push(relative(root, path))
    }
  }
  walk(root)
  return found.sort()
}
