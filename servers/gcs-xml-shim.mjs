// A small HTTP front for fake-gcs-server that adds the parts of the GCS *XML* API that
// object_store's GoogleCloudStorage uses and fake-gcs-server (v1.54, upstream) lacks:
//
//   PUT  /{bucket}/{object}                          simple upload (attributes, x-goog-meta-*)
//   PUT  /{bucket}/{object} + x-goog-copy-source     copy
//   POST /{bucket}/{object}?uploads                  XML multipart: initiate
//   PUT  /{bucket}/{object}?partNumber=N&uploadId=U  XML multipart: part
//   POST /{bucket}/{object}?uploadId=U               XML multipart: complete
//   DELETE /{bucket}/{object}?uploadId=U             XML multipart: abort
//   x-goog-if-generation-match on puts/copies        (fake-gcs-server ignores it)
//   If-Match / If-None-Match / If-(Un)Modified-Since on GET/HEAD (fake-gcs-server ignores them)
//
// Everything else (GET/HEAD/DELETE objects, XML list, JSON API, signed-URL requests) is proxied
// unchanged to fake-gcs-server, which must run with `-public-host <its host:port>`.
// Signed URLs are NOT verified (fake-gcs-server accepts any X-Goog-Signature).
//
// Test helpers: GET /_shim/uploads lists pending multipart uploads (JSON), GET /_shim/health.
//
// Run standalone: node gcs-xml-shim.mjs --port 0 --upstream http://127.0.0.1:4443 --dir /tmp/x
// It prints `listening <port>` on stdout once ready.
import http from 'node:http'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

const xml = (s) => String(s).replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`)

function xmlError(res, status, code, message) {
  const body = `<?xml version='1.0' encoding='UTF-8'?><Error><Code>${code}</Code><Message>${xml(message)}</Message></Error>`
  res.writeHead(status, { 'content-type': 'application/xml; charset=UTF-8', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

// Attributes carried by upload/initiate request headers, in JSON API form.
function attrsFromHeaders(h) {
  const meta = {}
  for (const [k, v] of Object.entries(h)) {
    if (k.startsWith('x-goog-meta-')) meta[k.slice('x-goog-meta-'.length)] = String(v)
  }
  const a = { metadata: meta }
  if (h['content-type']) a.contentType = h['content-type']
  if (h['cache-control']) a.cacheControl = h['cache-control']
  if (h['content-disposition']) a.contentDisposition = h['content-disposition']
  if (h['content-encoding']) a.contentEncoding = h['content-encoding']
  if (h['content-language']) a.contentLanguage = h['content-language']
  if (h['x-goog-storage-class']) a.storageClass = h['x-goog-storage-class']
  return a
}

export function createGcsXmlShim({ upstream, dir }) {
  const up = upstream.replace(/\/$/, '')
  const upHost = new URL(up).host
  const uploads = new Map() // uploadId -> { bucket, key, attrs, dir, parts: Map<n, etag> }
  const locks = new Map() // "bucket/key" -> promise chain: precondition check + write are atomic
  fs.mkdirSync(dir, { recursive: true })

  const enc = encodeURIComponent
  async function getMeta(bucket, key) {
    const r = await fetch(`${up}/storage/v1/b/${enc(bucket)}/o/${enc(key)}`)
    if (r.status === 404) return null
    if (!r.ok) throw new Error(`fake-gcs-server metadata ${r.status}: ${await r.text()}`)
    return r.json()
  }
  function withLock(id, fn) {
    const prev = locks.get(id) ?? Promise.resolve()
    const next = prev.then(fn, fn)
    const tail = next.catch(() => {})
    locks.set(id, tail)
    tail.then(() => { if (locks.get(id) === tail) locks.delete(id) })
    return next
  }
  // x-goog-if-generation-match: "0" = must not exist, else the live generation must match.
  async function checkGeneration(req, res, bucket, key) {
    const want = req.headers['x-goog-if-generation-match']
    if (want === undefined) return true
    const meta = await getMeta(bucket, key)
    const have = meta ? String(meta.generation) : '0'
    if (String(want) !== have) {
      xmlError(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold.')
      return false
    }
    return true
  }
  async function upload(bucket, key, attrs, data) {
    const boundary = `shim${crypto.randomBytes(8).toString('hex')}`
    const meta = { name: key, ...attrs }
    if (!meta.contentType) meta.contentType = 'application/octet-stream'
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n${JSON.stringify(meta)}\r\n--${boundary}\r\nContent-Type: ${meta.contentType}\r\n\r\n`),
      data,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ])
    const r = await fetch(`${up}/upload/storage/v1/b/${enc(bucket)}/o?uploadType=multipart`, {
      method: 'POST', headers: { 'content-type': `multipart/related; boundary=${boundary}` }, body,
    })
    if (!r.ok) throw new Error(`fake-gcs-server upload ${r.status}: ${await r.text()}`)
    return r.json()
  }
  const putHeaders = (obj) => ({ etag: `"${obj.md5Hash}"`, 'x-goog-generation': String(obj.generation), 'x-goog-metageneration': String(obj.metageneration ?? 1) })

  function proxy(req, res, extraStrip = [], { url = req.url, headers: extra = {}, addHeaders = {} } = {}) {
    const headers = { ...req.headers, host: upHost, ...extra }
    for (const h of extraStrip) delete headers[h]
    const preq = http.request(`${up}${url}`, { method: req.method, headers }, (pres) => {
      const out = { ...pres.headers }
      if (pres.statusCode < 300) for (const [k, v] of Object.entries(addHeaders)) if (out[k] === undefined) out[k] = v
      res.writeHead(pres.statusCode, out)
      pres.pipe(res)
    })
    preq.on('error', (e) => { if (!res.headersSent) xmlError(res, 502, 'BadGateway', `fake-gcs-server: ${e.message}`); else res.destroy(e) })
    req.pipe(preq)
  }

  function conditional(req, meta) {
    const etag = `"${meta.md5Hash}"`
    const updated = Math.floor(Date.parse(meta.updated) / 1000)
    const list = (v) => v.split(',').map((s) => s.trim().replace(/^W\//, ''))
    const im = req.headers['if-match']
    if (im !== undefined && !list(im).some((t) => t === '*' || t === etag)) return 412
    const ius = req.headers['if-unmodified-since']
    if (im === undefined && ius !== undefined && updated > Math.floor(Date.parse(ius) / 1000)) return 412
    const inm = req.headers['if-none-match']
    if (inm !== undefined && list(inm).some((t) => t === '*' || t === etag)) return 304
    const ims = req.headers['if-modified-since']
    if (inm === undefined && ims !== undefined && updated <= Math.floor(Date.parse(ims) / 1000)) return 304
    return 0
  }

  // XML list honouring start-after: fetch without it, drop keys <= start-after (byte order).
  async function listStartAfter(req, res, url, q) {
    const after = Buffer.from(q.get('start-after'), 'utf8')
    q.delete('start-after')
    const r = await fetch(`${up}${url.pathname}?${q}`, { headers: { host: upHost } })
    let body = await r.text()
    if (r.ok) {
      let dropped = 0
      const unxml = (t) => t.replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n)))
        .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&')
      body = body.replace(/<Contents>[\s\S]*?<\/Contents>/g, (c) => {
        const k = unxml(/<Key>([\s\S]*?)<\/Key>/.exec(c)?.[1] ?? '')
        if (Buffer.compare(Buffer.from(k, 'utf8'), after) <= 0) { dropped++; return '' }
        return c
      })
      body = body.replace(/<KeyCount>(\d+)<\/KeyCount>/, (_, n) => `<KeyCount>${Number(n) - dropped}</KeyCount>`)
    }
    res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/xml', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  }

  async function handle(req, res) {
    const url = new URL(req.url, 'http://shim')
    const q = url.searchParams
    if (url.pathname === '/_shim/health') {
      const r = await fetch(`${up}/storage/v1/b`)
      res.writeHead(r.ok ? 200 : 503).end(r.ok ? 'ok' : 'upstream not ready')
      return
    }
    if (url.pathname === '/_shim/uploads') {
      const body = JSON.stringify({ uploads: [...uploads].map(([id, u]) => ({ uploadId: id, bucket: u.bucket, key: u.key, parts: u.parts.size })) })
      res.writeHead(200, { 'content-type': 'application/json' }).end(body)
      return
    }
    const lm = /^\/([^/]+)\/?$/.exec(url.pathname)
    if (lm && req.method === 'GET' && q.get('list-type') === '2' && q.has('start-after')) {
      return listStartAfter(req, res, url, q)
    }
    const m = /^\/([^/]+)\/(.+)$/.exec(url.pathname)
    const signed = q.has('X-Goog-Algorithm') || q.has('X-Goog-Signature')
    if (!m || url.pathname.startsWith('/storage/') || url.pathname.startsWith('/upload/') ||
        url.pathname.startsWith('/download/') || url.pathname.startsWith('/batch/') ||
        url.pathname.startsWith('/_internal/') || signed) {
      return proxy(req, res)
    }
    const bucket = decodeURIComponent(m[1])
    const key = decodeURIComponent(m[2])
    const lockId = `${bucket}/${key}`

    if (req.method === 'POST' && q.has('uploads')) {
      await readBody(req)
      const uploadId = crypto.randomUUID()
      const udir = path.join(dir, uploadId)
      fs.mkdirSync(udir, { recursive: true })
      uploads.set(uploadId, { bucket, key, attrs: attrsFromHeaders(req.headers), dir: udir, parts: new Map() })
      const body = `<?xml version='1.0' encoding='UTF-8'?><InitiateMultipartUploadResult xmlns='http://s3.amazonaws.com/doc/2006-03-01/'><Bucket>${xml(bucket)}</Bucket><Key>${xml(key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`
      res.writeHead(200, { 'content-type': 'application/xml; charset=UTF-8', 'content-length': Buffer.byteLength(body) }).end(body)
      return
    }
    if (q.has('uploadId')) {
      const uploadId = q.get('uploadId')
      const u = uploads.get(uploadId)
      if (!u || u.bucket !== bucket || u.key !== key) {
        await readBody(req)
        return xmlError(res, 404, 'NoSuchUpload', 'The requested upload was not found.')
      }
      if (req.method === 'PUT' && q.has('partNumber')) {
        const n = Number(q.get('partNumber'))
        if (!Number.isInteger(n) || n < 1 || n > 10000) { await readBody(req); return xmlError(res, 400, 'InvalidArgument', 'bad partNumber') }
        const data = await readBody(req)
        if (!uploads.has(uploadId)) return xmlError(res, 404, 'NoSuchUpload', 'The requested upload was aborted.')
        fs.writeFileSync(path.join(u.dir, String(n)), data)
        const etag = `"${crypto.createHash('md5').update(data).digest('hex')}"`
        u.parts.set(n, etag)
        res.writeHead(200, { etag, 'content-length': 0 }).end()
        return
      }
      if (req.method === 'DELETE') {
        await readBody(req)
        uploads.delete(uploadId)
        fs.rmSync(u.dir, { recursive: true, force: true })
        res.writeHead(204).end()
        return
      }
      if (req.method === 'POST') {
        const text = (await readBody(req)).toString('utf8')
        const wanted = [...text.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((p) => ({
          n: Number(/<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(p[1])?.[1]),
          etag: /<ETag>\s*([^<]*?)\s*<\/ETag>/.exec(p[1])?.[1]?.replace(/&quot;/g, '"'),
        }))
        if (wanted.length === 0) return xmlError(res, 400, 'MalformedXML', 'no parts given')
        for (const p of wanted) {
          const have = u.parts.get(p.n)
          const norm = (e) => e?.replace(/^"|"$/g, '')
          if (!have || (p.etag && norm(p.etag) !== norm(have))) return xmlError(res, 400, 'InvalidPart', `part ${p.n} missing or etag mismatch`)
        }
        return withLock(lockId, async () => {
          if (!(await checkGeneration(req, res, bucket, key))) return
          const data = Buffer.concat(wanted.map((p) => fs.readFileSync(path.join(u.dir, String(p.n)))))
          const obj = await upload(bucket, key, u.attrs, data)
          uploads.delete(uploadId)
          fs.rmSync(u.dir, { recursive: true, force: true })
          const body = `<?xml version='1.0' encoding='UTF-8'?><CompleteMultipartUploadResult xmlns='http://s3.amazonaws.com/doc/2006-03-01/'><Location>/${xml(bucket)}/${xml(key)}</Location><Bucket>${xml(bucket)}</Bucket><Key>${xml(key)}</Key><ETag>"${obj.md5Hash}"</ETag></CompleteMultipartUploadResult>`
          res.writeHead(200, { ...putHeaders(obj), 'content-type': 'application/xml; charset=UTF-8', 'content-length': Buffer.byteLength(body) }).end(body)
        })
      }
      await readBody(req)
      return xmlError(res, 405, 'MethodNotAllowed', `${req.method} with uploadId`)
    }
    if (req.method === 'PUT') {
      const source = req.headers['x-goog-copy-source']
      if (source !== undefined) {
        await readBody(req)
        const s = /^\/?([^/]+)\/(.+)$/.exec(String(source).split('?')[0])
        if (!s) return xmlError(res, 400, 'InvalidArgument', 'bad x-goog-copy-source')
        const sb = decodeURIComponent(s[1]); const sk = decodeURIComponent(s[2])
        return withLock(lockId, async () => {
          if (!(await getMeta(sb, sk))) return xmlError(res, 404, 'NoSuchKey', 'The specified key does not exist.')
          if (!(await checkGeneration(req, res, bucket, key))) return
          const r = await fetch(`${up}/storage/v1/b/${enc(sb)}/o/${enc(sk)}/copyTo/b/${enc(bucket)}/o/${enc(key)}`, { method: 'POST' })
          if (!r.ok) return xmlError(res, r.status, 'CopyFailed', await r.text())
          const obj = await r.json()
          const body = `<?xml version='1.0' encoding='UTF-8'?><CopyObjectResult><LastModified>${obj.updated}</LastModified><ETag>"${obj.md5Hash}"</ETag></CopyObjectResult>`
          res.writeHead(200, { ...putHeaders(obj), 'content-type': 'application/xml; charset=UTF-8', 'content-length': Buffer.byteLength(body) }).end(body)
        })
      }
      const data = await readBody(req)
      return withLock(lockId, async () => {
        if (!(await checkGeneration(req, res, bucket, key))) return
        const obj = await upload(bucket, key, attrsFromHeaders(req.headers), data)
        res.writeHead(200, { ...putHeaders(obj), 'content-length': 0 }).end()
      })
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      const meta = await getMeta(bucket, key)
      if (!meta) return xmlError(res, 404, 'NoSuchKey', 'The specified key does not exist.')
      // no object versioning here: only the live generation can be read
      if (q.has('generation') && q.get('generation') !== String(meta.generation)) {
        // an older generation (bucket versioning): serve it through the JSON API
        const g = q.get('generation')
        const old = await fetch(`${up}/storage/v1/b/${enc(bucket)}/o/${enc(key)}?generation=${enc(g)}`)
        if (!old.ok) { await old.arrayBuffer(); return xmlError(res, 404, 'NoSuchKey', 'No such object generation.') }
        const ometa = await old.json()
        return proxy(req, res, ['if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since'], {
          url: `/storage/v1/b/${enc(bucket)}/o/${enc(key)}?alt=media&generation=${enc(g)}`,
          headers: { 'accept-encoding': 'gzip' },
          addHeaders: { etag: `"${ometa.md5Hash}"`, 'x-goog-generation': String(ometa.generation), ...(ometa.contentLanguage ? { 'content-language': ometa.contentLanguage } : {}) },
        })
      }
      const status = conditional(req, meta)
      if (status === 412) return xmlError(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold.')
      if (status === 304) { res.writeHead(304, { etag: `"${meta.md5Hash}"` }).end(); return }
      q.delete('generation')
      const qs = q.toString()
      // Stored bytes are served as stored (accept-encoding: gzip upstream): fake-gcs-server's
      // transparent gunzip hangs on content-encoding gzip bodies that are not gzip.
      return proxy(req, res, ['if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since'], {
        url: `${url.pathname}${qs ? `?${qs}` : ''}`,
        headers: { 'accept-encoding': 'gzip' },
        addHeaders: meta.contentLanguage ? { 'content-language': meta.contentLanguage } : {},
      })
    }
    return proxy(req, res)
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) xmlError(res, 500, 'InternalError', `gcs-xml-shim: ${e.message}`)
      else res.destroy(e)
    })
  })
  return { server, uploads }
}

// Standalone entry point (spawned by index.mjs so it runs and is killed like the other servers).
if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name, dflt) => {
    const i = process.argv.indexOf(`--${name}`)
    return i >= 0 ? process.argv[i + 1] : dflt
  }
  const { server } = createGcsXmlShim({ upstream: arg('upstream'), dir: arg('dir') })
  server.listen(Number(arg('port', '0')), arg('host', '127.0.0.1'), () => {
    // a TCP listener: address() is an AddressInfo
    process.stdout.write(`listening ${/** @type {import('node:net').AddressInfo} */ (server.address()).port}\n`)
  })
  const stop = () => server.close(() => process.exit(0))
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}
