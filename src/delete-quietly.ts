import { storages } from './registry.js'

/** One object in one store: its `storages` name and key. */
export interface ObjectRef {
  backend: string
  key: string
}

function isNotFound(error: unknown): boolean {
  return (error as { code?: string } | undefined)?.code === 'NOT_FOUND'
}

/**
 * Deletes `refs`, one batch per store, and resolves to the refs that are now gone. Never throws:
 * it runs where the outcome is already decided (a transaction committed or rolled back, a save
 * failed), so a failure can only be reported (and left to `reapLedger` or `sweepOrphans`).
 * Objects already gone count as deleted.
 */
export async function deleteQuietly<Ref extends ObjectRef>(refs: Ref[], report: (message: string) => void): Promise<Ref[]> {
  const gone: Ref[] = []
  const byBackend = new Map<string, Set<string>>()
  for (const ref of refs) {
    if (!byBackend.has(ref.backend)) byBackend.set(ref.backend, new Set())
    byBackend.get(ref.backend)!.add(ref.key)
  }
  await Promise.all(
    [...byBackend].map(async ([backend, keys]) => {
      try {
        const store = storages.get(backend)
        try {
          await store.delete([...keys])
        } catch (error) {
          if (!isNotFound(error)) throw error
          // One missing object must not spare the others in the batch.
          for (const key of keys) await store.delete(key).catch((e: unknown) => (isNotFound(e) ? undefined : Promise.reject(e)))
        }
        gone.push(...refs.filter((ref) => ref.backend === backend))
      } catch (error) {
        report(`stowage: could not delete ${keys.size} object(s) from "${backend}": ${(error as Error)?.message ?? error}`)
      }
    }),
  )
  return gone
}
