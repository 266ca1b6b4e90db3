import { makeGCS, useServers } from '../cloud/helpers.js'
import { FULL_CAPABILITIES, describeConformance } from './suite.js'

const servers = useServers(['gcs'])

describeConformance('GCSStore on fake-gcs-server', async () => ({
  store: makeGCS(servers().gcs!),
  capabilities: {
    ...FULL_CAPABILITIES,
    // object_store signs for storage.googleapis.com; the cloud suite checks these signatures
    // against the service account's public key instead.
    signedUrlsServed: false,
    // GCS conditions on generations, not etags: mode { etag } alone is NOT_SUPPORTED.
    conditionalUpdate: false,
  },
}))
