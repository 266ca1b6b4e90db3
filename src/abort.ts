/**
 * Aborts that settle at once. An operation waiting on the network or on an idle source
 * would otherwise notice its signal only when that wait ends — with a stalled body, when
 * the 30 s read timeout fires. Every wait on something we do not control is raced against
 * the signal; what finishes after the abort is cleaned up by `onLate`.
 */
import { AbortError } from './errors.js'

/** The `StorageError` an aborted operation on `path` rejects with. */
export function abortError(path: string, signal: AbortSignal): AbortError {
  return new AbortError(undefined, { path, cause: signal.reason })
}

/**
 * `promise`, or an `AbortError` as soon as `signal` fires, whichever comes first. When the
 * abort wins, `onLate` receives the value the promise resolves with later (to release it).
 */
export function raceAbort<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  path: string,
  onLate?: (value: T) => void,
): Promise<T> {
  if (!signal) return promise
  if (signal.aborted) {
    promise.then((value) => onLate?.(value), () => undefined)
    return Promise.reject(abortError(path, signal))
  }
  return new Promise<T>((resolve, reject) => {
    let aborted = false
    const onAbort = () => {
      aborted = true
      reject(abortError(path, signal))
    }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        if (aborted) onLate?.(value)
        else resolve(value)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err)
      },
    )
  })
}
