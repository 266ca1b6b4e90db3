import type { DataSource, ObjectLiteral } from 'typeorm'
import type { ObjectMeta } from '../index.js'
import { RESERVED_PREFIX } from '../direct-upload/pending.js'
import { storages } from '../registry.js'
import { filesOf, objectsOf, storedObjectColumns } from './column.js'

/** Options of {@link sweepOrphans}. */
export interface SweepOptions {
  /** Name of the store in `storages` to sweep. */
  backend: string
  /** Only report (the default); `false` deletes the orphans. */
  dryRun?: boolean
  /** Only look at keys under this prefix. */
  prefix?: string
  /**
   * Leave objects younger than this many milliseconds alone, so that files uploaded for a
   * transaction still in flight are not taken for orphans. Default 0.
   */
  minAgeMs?: number
  /** Rows read per query while collecting references. Default 1000. */
  batchSize?: number
}

/** What {@link sweepOrphans} found and did. */
export interface SweepReport {
  backend: string
  dryRun: boolean
  /** Objects listed in the store (under `prefix`). */
  scanned: number
  /** Distinct keys of this backend referenced by some row. */
  referenced: number
  /** Objects no row references (and old enough), deleted unless `dryRun`. */
  orphans: ObjectMeta[]
  /** Keys actually deleted: empty on a dry run. */
  deleted: string[]
  /** Bytes the orphans take up. */
  orphanBytes: number
}

/**
 * The keys every row of every entity of `dataSource` references through a stored-object column,
 * its files' derivatives included (soft-deleted rows included, views left out), by backend.
 */
export async function referencedKeys(dataSource: DataSource, batchSize = 1000): Promise<Map<string, Set<string>>> {
  const keys = new Map<string, Set<string>>()
  for (const metadata of dataSource.entityMetadatas) {
    if (metadata.tableType === 'view') continue
    const columns = storedObjectColumns(metadata)
    if (columns.length === 0) continue
    const primary = metadata.primaryColumns.map((c) => c.propertyPath)
    const select = [...primary, ...columns.map(({ column }) => column.propertyPath)]
    for (let skip = 0; ; skip += batchSize) {
      const order = Object.fromEntries(primary.map((p) => [p, 'ASC' as const]))
      const rows: ObjectLiteral[] = await dataSource.manager.find(metadata.target, {
        select: Object.fromEntries(select.map((p) => [p, true])),
        order,
        skip,
        take: batchSize,
        withDeleted: true,
        loadEagerRelations: false,
      })
      for (const row of rows) {
        for (const { column } of columns) {
          for (const object of filesOf(column.getEntityValue(row)).flatMap(objectsOf)) {
            let ofBackend = keys.get(object.backend)
            if (ofBackend === undefined) keys.set(object.backend, (ofBackend = new Set()))
            ofBackend.add(object.key)
          }
        }
      }
      if (rows.length < batchSize) break
    }
  }
  return keys
}

/**
 * Finds the objects of `backend` that no row of any entity references through a
 * `@StoredObjectColumn` — left behind by writes that bypass entities (`Repository.delete`,
 * query-builder deletes) or by a crash — and, with `dryRun: false`, deletes them.
 *
 * Keys under the reserved prefix `.stowage/` (direct uploads' pending markers) are skipped.
 * The store is listed before the rows are read, so an object uploaded meanwhile is not listed;
 * use `minAgeMs` when other processes may be mid-transaction.
 */
export async function sweepOrphans(dataSource: DataSource, options: SweepOptions): Promise<SweepReport> {
  const { backend, dryRun = true, prefix, minAgeMs = 0, batchSize = 1000 } = options
  const store = storages.get(backend)
  const listed: ObjectMeta[] = []
  for await (const meta of store.list(prefix)) {
    // stowage's own objects (direct uploads' pending markers) are no row's to reference.
    if (!meta.path.startsWith(`${RESERVED_PREFIX}/`)) listed.push(meta)
  }
  const referenced = (await referencedKeys(dataSource, batchSize)).get(backend) ?? new Set<string>()
  const cutoff = Date.now() - minAgeMs
  const orphans = listed.filter(
    (meta) => !referenced.has(meta.path) && (minAgeMs <= 0 || meta.lastModified.getTime() <= cutoff),
  )
  const deleted: string[] = []
  if (!dryRun && orphans.length > 0) {
    const keys = orphans.map((meta) => meta.path)
    await store.delete(keys)
    deleted.push(...keys)
  }
  return {
    backend,
    dryRun,
    scanned: listed.length,
    referenced: referenced.size,
    orphans,
    deleted,
    orphanBytes: orphans.reduce((sum, meta) => sum + meta.size, 0),
  }
}
