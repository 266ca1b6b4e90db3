// flydrive's Disk over its s3 driver (which sends single PutObject requests and uses the AWS
// SDK underneath) or its fs driver.
import fs from 'node:fs'
import { pathToFileURL } from 'node:url'
import { pipeline } from 'node:stream/promises'
import { drain } from '../util.mjs'

export async function open(target) {
  const { Disk } = await import('flydrive')
  let disk
  if (target.kind === 's3') {
    const { S3Driver } = await import('flydrive/drivers/s3')
    // flydrive's recursive listAll sends `delimiter=` (empty), which AWS ignores but s3s-fs takes
    // as a delimiter; flydrive documents overriding its command factories, so drop the empty one
    class Driver extends S3Driver {
      createListObjectsV2Command(client, options) {
        const { Delimiter, ...rest } = options
        return super.createListObjectsV2Command(client, Delimiter ? options : rest)
      }
    }
    disk = new Disk(new Driver({
      endpoint: target.endpoint, region: target.region, forcePathStyle: true,
      credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
      bucket: target.bucket, supportsACL: false, visibility: 'private',
    }))
  } else if (target.kind === 'local') {
    const { FSDriver } = await import('flydrive/drivers/fs')
    disk = new Disk(new FSDriver({ location: pathToFileURL(`${target.dir}/`), visibility: 'private' }))
  } else {
    throw new Error('flydrive has no memory driver')
  }
  return {
    putBytes: (k, buf) => disk.put(k, buf),
    putStream: (k, readable) => disk.putStream(k, readable),
    getBytes: async (k) => (await disk.getBytes(k)).length,
    getToFile: async (k, file) => pipeline(await disk.getStream(k), fs.createWriteStream(file)),
    getDrain: async (k) => drain(await disk.getStream(k)),
    list: async (prefix) => {
      let n = 0
      let paginationToken
      do {
        const page = await disk.listAll(prefix, { recursive: true, paginationToken })
        for (const _ of page.objects) n++
        paginationToken = page.paginationToken
      } while (paginationToken)
      return n
    },
    presign: async (keys) => {
      let n = 0
      for (const k of keys) { await disk.getSignedUrl(k, { expiresIn: 3600 }); n++ }
      return n
    },
    close: async () => {},
  }
}
