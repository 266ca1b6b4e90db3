/** `MemoryStore`: objects kept in this process's memory. */
import native from './native.js'
import { Store } from './store.js'

/** Objects kept in this process's memory; for tests and caches. */
export class MemoryStore extends Store {
  constructor() {
    super(native.NativeStore.memory())
  }
}
