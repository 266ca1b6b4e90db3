import { MemoryStore } from '../../src/index.js'
import { describeConformance } from './suite.js'

describeConformance('MemoryStore', async () => ({
  store: new MemoryStore(),
}))
