import { MemoryStore } from '../../src/index.js'
import { FULL_CAPABILITIES, describeConformance } from './suite.js'

describeConformance('MemoryStore', async () => ({
  store: new MemoryStore(),
  capabilities: {
    ...FULL_CAPABILITIES,
    signing: false,
  },
}))
