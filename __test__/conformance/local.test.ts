import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalStore } from '../../src/index.js'
import { FULL_CAPABILITIES, describeConformance } from './suite.js'

describeConformance('LocalStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-conformance-'))
  return {
    store: new LocalStore(dir),
    capabilities: {
      ...FULL_CAPABILITIES,
      attributes: false,
      orderedList: false,
      signing: false,
      conditionalUpdate: false,
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
})
