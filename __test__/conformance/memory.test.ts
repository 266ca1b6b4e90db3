import { MemoryStore } from '../../src/index.js'
import { describeConformance } from './suite.js'

describeConformance('MemoryStore', async () => ({
  store: new MemoryStore(),
  capabilities: {
    attributes: true,
    orderedList: true,
    signing: false,
    conditionalUpdate: true,
    conditionalGet: true,
    createMode: true,
    copyIfNotExists: true,
  },
}))
