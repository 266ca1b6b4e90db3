/**
 * `sweepUnconfirmed`: removes what was prepared and never confirmed — the object if any bytes
 * arrived, the S3 multipart upload if one was started, and the pending marker.
 */
import { describeValue } from '../arguments.js'
import { ConfigError, NotFoundError } from '../errors.js'
import { storages } from '../registry.js'
import type { ObjectStore } from '../types.js'
import { PENDING_PREFIX, parsePending } from './pending.js'

/** Options of {@link sweepUnconfirmed}. */
export interface SweepUnconfirmedOptions {
  /** The registered store's name. */
  backend: string
  /**
   * Only uploads prepared at least this many milliseconds ago (`0`: all). Make it longer than
   * the `expiresIn` you prepare with, or an upload still on its way is removed.
   */
  olderThan: number
}

/** What {@link sweepUnconfirmed} removed. */
export interface SweepUnconfirmedResult {
  /** The keys of the prepared uploads removed (whether or not their bytes had arrived). */
  removed: string[]
}

async function abortIfStarted(store: ObjectStore, key: string, uploadId: string | undefined): Promise<void> {
  if (uploadId === undefined || !store.capabilities.presignedMultipart) return
  try {
    await store.abortMultipartUpload(key, uploadId)
  } catch (error) {
    // Completed or aborted already: nothing is left of it.
    if (!(error instanceof NotFoundError)) throw error
  }
}

/**
 * Removes every upload prepared on `backend` at least `olderThan` ms ago and never confirmed:
 * its object, its multipart upload and its marker under `.stowage/pending/`. A damaged marker
 * (not stowage's JSON) is removed once it is as old.
 */
export async function sweepUnconfirmed(options: SweepUnconfirmedOptions): Promise<SweepUnconfirmedResult> {
  const { backend, olderThan } = options ?? ({} as SweepUnconfirmedOptions)
  if (typeof olderThan !== 'number' || !Number.isFinite(olderThan) || olderThan < 0) {
    throw new ConfigError(`sweepUnconfirmed(): olderThan must be a number of milliseconds >= 0, got ${describeValue(olderThan)}`)
  }
  const store = storages.get(backend)
  const cutoff = Date.now() - olderThan
  const markers = []
  for await (const meta of store.list(PENDING_PREFIX)) markers.push(meta)
  const removed: string[] = []
  for (const meta of markers) {
    let text: string
    try {
      text = await (await store.get(meta.path)).text()
    } catch (error) {
      if (error instanceof NotFoundError) continue // confirmed meanwhile
      throw error
    }
    const marker = parsePending(text)
    const stated = marker === undefined ? Number.NaN : Date.parse(marker.created)
    const created = Number.isNaN(stated) ? meta.lastModified.getTime() : stated
    if (created > cutoff) continue
    if (marker !== undefined) {
      await abortIfStarted(store, marker.key, marker.uploadId)
      await store.delete(marker.key)
      removed.push(marker.key)
    }
    await store.delete(meta.path)
  }
  return { removed }
}
