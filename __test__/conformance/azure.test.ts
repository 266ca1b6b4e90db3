import { makeAzure, useServers } from '../cloud/helpers.js'
import { describeConformance } from './suite.js'

const servers = useServers(['azure'])

describeConformance('AzureStore on Azurite', async () => ({
  store: makeAzure(servers().azure!),
}))
