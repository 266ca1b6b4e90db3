/**
 * Pending markers: how `sweepUnconfirmed` knows what was prepared and never confirmed. Each
 * `prepareUpload` writes a small JSON object under the reserved prefix `.stowage/pending/` of the
 * same store; `confirmUpload` (and `abortMultipartUpload`) removes it; the sweep removes the
 * object and the marker of every one older than its cut-off. Keeping the markers in the store
 * itself needs no database and works the same on every backend.
 */
import { randomUUID } from 'node:crypto'
import { NotFoundError } from '../errors.js'
import type { ObjectStore } from '../types.js'

/** The reserved prefix of stowage's own objects in a store; keys of yours should not start with it. */
export const RESERVED_PREFIX = '.stowage'

/** Where the pending markers live. */
export const PENDING_PREFIX = `${RESERVED_PREFIX}/pending`

/** What a pending marker holds. */
export interface PendingMarker {
  /** The prepared object's key. */
  key: string
  /** When it was prepared (ISO 8601). */
  created: string
  /** When its token expires (ISO 8601). */
  expiresAt: string
  /** The S3 multipart upload to abort if it is never completed. */
  uploadId?: string
  /** Set by the upload route once the bytes arrived: their size and sha256 (`sha256:<hex>`). */
  received?: { size: number; checksum: string }
}

/** A fresh marker id. */
export function newPendingId(): string {
  return randomUUID()
}

/** The marker's key for `id`. */
export function pendingKey(id: string): string {
  return `${PENDING_PREFIX}/${id}.json`
}

/** Writes (or rewrites) the marker `id`. */
export async function writePending(store: ObjectStore, id: string, marker: PendingMarker): Promise<void> {
  await store.put(pendingKey(id), JSON.stringify(marker), { contentType: 'application/json' })
}

/** The marker `id`, or `undefined` when it is gone (confirmed, aborted or swept). */
export async function readPending(store: ObjectStore, id: string): Promise<PendingMarker | undefined> {
  try {
    return parsePending(await (await store.get(pendingKey(id))).text())
  } catch (error) {
    if (error instanceof NotFoundError) return undefined
    throw error
  }
}

/** A marker's JSON, or `undefined` when it is not one (a foreign or damaged object). */
export function parsePending(text: string): PendingMarker | undefined {
  try {
    const value = JSON.parse(text) as Partial<PendingMarker> | null
    if (typeof value?.key === 'string' && typeof value.created === 'string') return value as PendingMarker
  } catch {
    // not JSON: not a marker
  }
  return undefined
}

/** Removes the marker `id` (removing a missing one succeeds). */
export async function removePending(store: ObjectStore, id: string): Promise<void> {
  await store.delete(pendingKey(id))
}
