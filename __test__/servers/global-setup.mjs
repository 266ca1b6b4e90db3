// vitest globalSetup: starts the storage servers (../../servers, shared with the bench) once
// for the whole run.
//
//   // vitest.config.ts
//   test: { globalSetup: ['./__test__/servers/global-setup.mjs'] }
//
// Tests read the connection details with `inject('servers')` (vitest) or
// `JSON.parse(process.env.STOWAGE_TEST_SERVERS)`. STOWAGE_TEST_SERVERS_ONLY=s3,gcs limits the
// kinds started; STOWAGE_TEST_SERVERS_SKIP=1 starts none (provides null).
import { startServers, stopServers } from '../../servers/index.mjs'

export default async function setup({ provide }) {
  if (process.env.STOWAGE_TEST_SERVERS_SKIP === '1') {
    provide('servers', null)
    return
  }
  const only = process.env.STOWAGE_TEST_SERVERS_ONLY?.split(',').map((s) => s.trim()).filter(Boolean)
  const started = Date.now()
  const servers = await startServers({ only })
  process.stderr.write(`[stowage servers] ${Object.keys(servers).filter((k) => k !== 'tempDir').join(', ')} up in ${Date.now() - started} ms (${servers.tempDir})\n`)
  provide('servers', servers)
  return async function teardown() {
    await stopServers()
  }
}
