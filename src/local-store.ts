/** `LocalStore`: objects as files under a root directory. */
import { checkOptions, describeValue } from './arguments.js'
import { buildNativeStore } from './build-native-store.js'
import { ConfigError } from './errors.js'
import native from './native.js'
import type { LocalStoreOptions } from './native.js'
import { Store } from './store.js'

export type { LocalStoreOptions }

/**
 * Objects as files under `root`. Writes are atomic (temporary file, then
 * rename); attributes (content type, metadata) cannot be kept and are dropped.
 */
export class LocalStore extends Store {
  constructor(root: string, options?: LocalStoreOptions | null) {
    const opts = checkOptions<LocalStoreOptions>(options, 'LocalStore options')
    if (typeof root !== 'string') throw new ConfigError(`LocalStore takes a root directory path, got ${describeValue(root)}`)
    super(buildNativeStore(root, () => native.NativeStore.local(root, opts)))
  }
}
