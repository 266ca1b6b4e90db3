import type { StoredRef } from './transaction-frames.js'

/** Two refs name the same object. */
export function sameRef(a: StoredRef, b: StoredRef): boolean {
  return a.backend === b.backend && a.key === b.key
}
