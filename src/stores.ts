/** The concrete stores and `fromUrl`. */
import { checkOptions, describeValue } from './arguments.js'
import { buildNativeStore } from './build-native-store.js'
import { ConfigError } from './errors.js'
import native from './native.js'
import { Store } from './store.js'


/** Objects kept in this process's memory; for tests and caches. */
export class MemoryStore extends Store {
  constructor() {
    super(native.NativeStore.memory())
  }
}

/** Options of `LocalStore`. */
export interface LocalStoreOptions {
  /** Create the root directory if it does not exist. */
  mkdir?: boolean
}

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

/** Options of `fromUrl`, passed on to the backend. */
export type FromUrlOptions = Record<string, string | boolean | number | undefined>

/** A store from a URL: `memory://`, `file:///abs/dir`, ... */
export function fromUrl(url: string, opts?: FromUrlOptions | null): Store {
  if (typeof url !== 'string') throw new ConfigError(`fromUrl() takes a URL string, got ${describeValue(url)}`)
  const options: Record<string, string> = {}
  for (const [key, value] of Object.entries(checkOptions<FromUrlOptions>(opts, 'fromUrl() options'))) {
    if (value === undefined || value === null) continue
    if (!['string', 'boolean', 'number'].includes(typeof value)) {
      throw new ConfigError(`fromUrl() option ${key} must be a string, boolean or number, got ${describeValue(value)}`)
    }
    options[key] = String(value)
  }
  return new Store(buildNativeStore(url, () => native.NativeStore.fromUrl(url, options)))
}
