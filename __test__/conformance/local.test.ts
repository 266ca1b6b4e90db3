import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalStore } from '../../src/index.js'
import { describeConformance } from './suite.js'

describeConformance('LocalStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-conformance-'))
  return {
    store: new LocalStore(dir),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
})
