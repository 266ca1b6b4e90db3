import { HTTPStore } from '../../src/index.js'
import { useServers } from '../cloud/helpers.js'
import { describeConformance } from './suite.js'

const servers = useServers(['webdav'])

describeConformance('HTTPStore on rclone WebDAV', async () => ({
  store: new HTTPStore(servers().webdav!.url),
}))
