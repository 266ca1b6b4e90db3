/** The concrete stores and `fromUrl`. */
import { fromNative } from './errors.js'
import native from './native.js'
import { Store } from './store.js'

function build(what: string, make: () => InstanceType<typeof native.NativeStore>) {
  try {
    return make()
  } catch (err) {
    // `what` may be the URL passed to `fromUrl`: it goes into the error's
    // `path` and message, so it goes there without its credentials.
    throw fromNative(err, typeof what === 'string' ? native.redact(what) : what)
  }
}

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
  constructor(root: string, opts: LocalStoreOptions = {}) {
    super(build(root, () => native.NativeStore.local(root, opts)))
  }
}

/** Options of `fromUrl`, passed on to the backend. */
export type FromUrlOptions = Record<string, string | boolean | number | undefined>

/** A store from a URL: `memory://`, `file:///abs/dir`, ... */
export function fromUrl(url: string, opts: FromUrlOptions = {}): Store {
  const options: Record<string, string> = {}
  for (const [key, value] of Object.entries(opts)) if (value !== undefined) options[key] = String(value)
  return new Store(build(url, () => native.NativeStore.fromUrl(url, options)))
}
