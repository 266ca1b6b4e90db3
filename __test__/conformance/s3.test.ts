import { makeS3, useServers } from '../cloud/helpers.js'
import { describeConformance } from './suite.js'

const servers = useServers(['s3', 's3mem', 's3moto'])

// s3s-fs verifies SigV4 (presigned URLs included) but ignores conditional GETs.
describeConformance('S3Store on s3s-fs', async () => ({
  store: makeS3(servers().s3!),
  quirks: { ignoresConditionalGets: true },
}))

// crates/s3-mem-server (the bench's server) verifies SigV4 and honours conditional GETs.
describeConformance('S3Store on s3-mem-server', async () => ({
  store: makeS3(servers().s3mem!),
}))

// moto honours conditional GETs but does not check signatures.
describeConformance('S3Store on moto', async () => ({
  store: makeS3(servers().s3moto!),
}))
