// @aws-sdk/client-s3 + @aws-sdk/lib-storage (Upload) + @aws-sdk/s3-request-presigner.
// `defaults`: the SDK and Upload as shipped (Upload: 5 MiB parts, queueSize 4; 50 sockets;
// CRC32 request checksums and response validation on).
// `tuned`: the knobs a performance-minded user turns: sockets = the workload's concurrency
// (keep-alive), Upload with 8 MiB parts and queueSize 8, checksums only when required.
import fs from 'node:fs'
import http from 'node:http'
import { pipeline } from 'node:stream/promises'
import { drain } from '../util.mjs'

export async function open(target, { tuned = false, concurrency = 64 } = {}) {
  const { S3Client, GetObjectCommand, ListObjectsV2Command } = await import('@aws-sdk/client-s3')
  const { Upload } = await import('@aws-sdk/lib-storage')
  const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner')
  const config = {
    endpoint: target.endpoint, region: target.region, forcePathStyle: true,
    credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
  }
  if (tuned) {
    const { NodeHttpHandler } = await import('@smithy/node-http-handler')
    config.requestHandler = new NodeHttpHandler({
      httpAgent: new http.Agent({ keepAlive: true, maxSockets: Math.max(concurrency, 16) }),
    })
    config.requestChecksumCalculation = 'WHEN_REQUIRED'
    config.responseChecksumValidation = 'WHEN_REQUIRED'
  }
  const client = new S3Client(config)
  const Bucket = target.bucket
  const upload = (Key, Body) => new Upload({
    client, params: { Bucket, Key, Body },
    ...(tuned ? { partSize: 8 * 1024 * 1024, queueSize: 8 } : {}),
  }).done()
  const get = (Key, Range) => client.send(new GetObjectCommand({ Bucket, Key, Range }))
  return {
    putBytes: (k, buf) => upload(k, buf),
    putStream: (k, readable) => upload(k, readable),
    getBytes: async (k) => (await (await get(k)).Body.transformToByteArray()).length,
    // in Node the SDK's Body is an http.IncomingMessage (a Readable); its type also covers browsers'
    getToFile: async (k, file) => pipeline(/** @type {import('node:stream').Readable} */ ((await get(k)).Body), fs.createWriteStream(file)),
    getDrain: async (k) => drain((await get(k)).Body),
    getRange: async (k, start, end) => (await (await get(k, `bytes=${start}-${end - 1}`)).Body.transformToByteArray()).length,
    list: async (prefix) => {
      let n = 0
      let ContinuationToken
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: `${prefix}/`, ContinuationToken }))
        n += page.Contents?.length ?? 0
        ContinuationToken = page.NextContinuationToken
      } while (ContinuationToken)
      return n
    },
    presign: async (keys) => {
      let n = 0
      for (const Key of keys) {
        await getSignedUrl(client, new GetObjectCommand({ Bucket, Key }), { expiresIn: 3600 })
        n++
      }
      return n
    },
    close: async () => client.destroy(),
  }
}
