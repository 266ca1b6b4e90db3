import { makeS3, useServers } from '../cloud/helpers.js'
import { describeConformance } from './suite.js'

const servers = useServers(['s3', 's3moto'])

// s3s-fs verifies SigV4 (presigned URLs included) but ignores conditional GETs.
describeConformance('S3Store on s3s-fs', async () => ({
  store: makeS3(servers().s3!),
  quirks: { ignoresConditionalGets: true },
}))

// moto honours conditional GETs but does not check signatures.
describeConformance('S3Store on moto', async () => ({
  store: makeS3(servers().s3moto!),
}))
