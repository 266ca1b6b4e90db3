/** Building a native store handle, with its failure as a `StorageError`. */
import { fromNative } from './errors.js'
import native from './native.js'
import type { NativeStore } from './native.js'

/**
 * Build a native store; a failure becomes a `StorageError` about `what` (a root, a bucket or
 * a URL). A URL goes into the error's `path` and message, so it goes there without its
 * credentials.
 */
export function buildNativeStore(what: string, make: () => NativeStore): NativeStore {
  try {
    return make()
  } catch (err) {
    throw fromNative(err, typeof what === 'string' ? native.redact(what) : what)
  }
}
