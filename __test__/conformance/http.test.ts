import { HTTPStore } from '../../src/index.js'
import { useServers } from '../cloud/helpers.js'
import { FULL_CAPABILITIES, describeConformance } from './suite.js'

const servers = useServers(['webdav'])

describeConformance('HTTPStore on rclone WebDAV', async () => ({
  store: new HTTPStore(servers().webdav!.url),
  capabilities: {
    ...FULL_CAPABILITIES,
    attributes: false,
    orderedList: false,
    signing: false,
    conditionalUpdate: false,
    createMode: false,
  },
}))
