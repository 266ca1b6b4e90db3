import { makeGCS, useServers } from '../cloud/helpers.js'
import { describeConformance } from './suite.js'

const servers = useServers(['gcs'])

describeConformance('GCSStore on fake-gcs-server', async () => ({
  store: makeGCS(servers().gcs!),
  // object_store signs for storage.googleapis.com; the cloud suite checks these signatures
  // against the service account's public key instead.
  quirks: { cannotServeSignedUrls: true },
}))
