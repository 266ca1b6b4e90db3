// node servers/selfcheck.mjs [kind ...]
// Starts the emulators, does a raw PUT/GET (and a little more) against each, stops them.
import assert from 'node:assert/strict'
import { startServers, stopServers, azureRequest } from './index.mjs'

const only = process.argv.slice(2).length ? process.argv.slice(2) : undefined
const results = []
async function check(name, fn) {
  const t0 = Date.now()
  try { await fn(); results.push([name, 'ok', Date.now() - t0]) } catch (e) { results.push([name, `FAIL: ${e.stack ?? e}`, Date.now() - t0]) }
}

async function s3Checks(name, s) {
  const { S3Client, PutObjectCommand, GetObjectCommand, ListObjectsV2Command } = await import('@aws-sdk/client-s3')
  const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner')
  const client = new S3Client({ endpoint: s.endpoint, region: s.region, forcePathStyle: true,
    credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey } })
  await check(`${name}: signed PUT/GET`, async () => {
    await client.send(new PutObjectCommand({ Bucket: s.bucket, Key: 'dir/hello.txt', Body: 'hello s3', ContentType: 'text/plain', Metadata: { a: 'b' } }))
    const r = await client.send(new GetObjectCommand({ Bucket: s.bucket, Key: 'dir/hello.txt' }))
    assert.equal(await r.Body.transformToString(), 'hello s3')
    assert.equal(r.ContentType, 'text/plain')
    assert.deepEqual(r.Metadata, { a: 'b' })
    const l = await client.send(new ListObjectsV2Command({ Bucket: s.bucket, Prefix: 'dir/' }))
    assert.deepEqual(l.Contents.map((o) => o.Key), ['dir/hello.txt'])
  })
  await check(`${name}: presigned GET`, async () => {
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: s.bucket, Key: 'dir/hello.txt' }), { expiresIn: 60 })
    const ok = await fetch(url)
    assert.equal(ok.status, 200)
    assert.equal(await ok.text(), 'hello s3')
    if (s.kind === 's3s-fs' || s.kind === 's3-mem-server') { // moto checks no signatures
      const bad = await fetch(url.replace(/X-Amz-Signature=([0-9a-f])/, (m, c) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`))
      assert.equal(bad.status, 403, 'tampered presigned URL must be refused')
      await bad.arrayBuffer()
      const wrong = new S3Client({ endpoint: s.endpoint, region: s.region, forcePathStyle: true, maxAttempts: 1,
        credentials: { accessKeyId: s.accessKeyId, secretAccessKey: 'wrong' } })
      await assert.rejects(wrong.send(new GetObjectCommand({ Bucket: s.bucket, Key: 'dir/hello.txt' })), /signature/i)
      wrong.destroy()
    }
  })
  client.destroy()
}

const servers = await startServers({ only })
try {
  console.log(JSON.stringify(servers, (k, v) => (k === 'serviceAccountKey' ? '<redacted>' : v), 2))
  if (servers.s3) await s3Checks('s3 (s3s-fs)', servers.s3)
  if (servers.s3mem) await s3Checks('s3mem (s3-mem-server)', servers.s3mem)
  if (servers.s3moto) await s3Checks('s3moto (moto)', servers.s3moto)
  if (servers.gcs) {
    const g = servers.gcs
    const obj = `${g.baseUrl}/${g.bucket}/${encodeURIComponent('dir/hello.txt')}`
    await check('gcs: XML PUT/GET/HEAD/list', async () => {
      const put = await fetch(obj, { method: 'PUT', body: 'hello gcs', headers: { 'content-type': 'text/plain', 'x-goog-meta-a': 'b' } })
      assert.equal(put.status, 200, await put.text())
      assert.ok(put.headers.get('x-goog-generation'))
      const get = await fetch(obj)
      assert.equal(await get.text(), 'hello gcs')
      assert.equal(get.headers.get('content-type'), 'text/plain')
      assert.equal(get.headers.get('x-goog-meta-a'), 'b')
      const list = await (await fetch(`${g.baseUrl}/${g.bucket}?list-type=2&prefix=dir%2F`)).text()
      assert.match(list, /<Key>dir\/hello.txt<\/Key>/)
      const create = await fetch(obj, { method: 'PUT', body: 'again', headers: { 'x-goog-if-generation-match': '0' } })
      assert.equal(create.status, 412)
    })
    await check('gcs: JSON API GET', async () => {
      const r = await fetch(`${g.baseUrl}/storage/v1/b/${g.bucket}/o/${encodeURIComponent('dir/hello.txt')}?alt=media`)
      assert.equal(await r.text(), 'hello gcs')
    })
    await check('gcs: XML multipart upload', async () => {
      const key = `${g.baseUrl}/${g.bucket}/${encodeURIComponent('dir/multi.bin')}`
      const init = await (await fetch(`${key}?uploads`, { method: 'POST', headers: { 'content-type': 'application/x-test' } })).text()
      const id = /<UploadId>([^<]+)</.exec(init)[1]
      const etags = []
      /** @type {Array<[number, string]>} [part number, body] */
      const parts = [[1, 'a'.repeat(10)], [2, 'b'.repeat(5)]]
      for (const [n, body] of parts) {
        const r = await fetch(`${key}?partNumber=${n}&uploadId=${id}`, { method: 'PUT', body })
        assert.equal(r.status, 200)
        etags.push(r.headers.get('etag'))
      }
      const xml = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`
      const done = await fetch(`${key}?uploadId=${id}`, { method: 'POST', body: xml })
      assert.equal(done.status, 200, await done.clone().text())
      assert.match(await done.text(), /<ETag>/)
      const get = await fetch(key)
      assert.equal(await get.text(), 'a'.repeat(10) + 'b'.repeat(5))
      assert.equal(get.headers.get('content-type'), 'application/x-test')
      assert.deepEqual((await (await fetch(g.shimUploadsUrl)).json()).uploads, [])
    })
  }
  if (servers.azure) {
    const a = servers.azure
    await check('azure: SharedKey PUT/GET blob', async () => {
      const put = await azureRequest(a.endpoint, 'PUT', `${a.container}/dir/hello.txt`, {
        body: 'hello azure', headers: { 'x-ms-blob-type': 'BlockBlob', 'content-type': 'text/plain' } })
      assert.equal(put.status, 201, await put.text())
      const get = await azureRequest(a.endpoint, 'GET', `${a.container}/dir/hello.txt`)
      assert.equal(await get.text(), 'hello azure')
      const list = await (await azureRequest(a.endpoint, 'GET', `${a.container}?restype=container&comp=list`)).text()
      assert.match(list, /<Name>dir\/hello.txt<\/Name>/)
    })
  }
  if (servers.webdav) {
    const w = servers.webdav
    await check('webdav: MKCOL/PUT/GET/PROPFIND/COPY', async () => {
      assert.equal((await fetch(`${w.url}/dir`, { method: 'MKCOL' })).status, 201)
      assert.equal((await fetch(`${w.url}/dir/hello.txt`, { method: 'PUT', body: 'hello webdav' })).status, 201)
      const get = await fetch(`${w.url}/dir/hello.txt`, { headers: { range: 'bytes=6-' } })
      assert.equal(get.status, 206)
      assert.equal(await get.text(), 'webdav')
      const pf = await fetch(`${w.url}/dir/`, { method: 'PROPFIND', headers: { depth: '1' } })
      assert.equal(pf.status, 207)
      assert.match(await pf.text(), /hello\.txt/)
      const cp = await fetch(`${w.url}/dir/hello.txt`, { method: 'COPY', headers: { destination: `${w.url}/dir/copy.txt`, overwrite: 'F' } })
      assert.equal(cp.status, 201)
      const cp2 = await fetch(`${w.url}/dir/hello.txt`, { method: 'COPY', headers: { destination: `${w.url}/dir/copy.txt`, overwrite: 'F' } })
      assert.equal(cp2.status, 412, 'COPY with Overwrite: F onto an existing file must fail')
    })
  }
} finally {
  await stopServers()
}
let failed = 0
for (const [name, status, ms] of results) {
  if (status !== 'ok') failed++
  console.log(`${status === 'ok' ? 'ok  ' : 'FAIL'} ${name} (${ms} ms)${status === 'ok' ? '' : `\n${status}`}`)
}
console.log(`${results.length - failed} passed, ${failed} failed`)
process.exitCode = failed ? 1 : 0
