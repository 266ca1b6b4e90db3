// stowage presigning one URL per call (signUrl), beside the batch signUrls of libs/stowage.mjs.
export async function open(target) {
  const stowage = await import('../../dist/index.js')
  const store = new stowage.S3Store({
    bucket: target.bucket, region: target.region, endpoint: target.endpoint,
    accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey,
    allowHttp: true, virtualHostedStyle: false,
  })
  return {
    presign: async (keys) => {
      let n = 0
      for (const k of keys) { await store.signUrl('GET', k, { expiresIn: 3600 }); n++ }
      return n
    },
    close: async () => {},
  }
}
