import type { DataSource, EntityManager, EntityMetadata, ObjectLiteral } from 'typeorm'
import { ConfigError } from '../errors.js'
import { LEDGER_TABLE, databaseFileOf, isSingleConnection, ledgerMetadata } from './ledger.js'
import type { StoredObjectLedger } from './ledger-entity.js'
import { LedgerJournal } from './ledger-journal.js'
import { deleteQuietly } from '../delete-quietly.js'
import { referencedKeys } from './sweep.js'
import type { StoredRef } from './transaction-frames.js'

/** Options of {@link reapLedger}. */
export interface ReapLedgerOptions {
  /**
   * Leave entries younger than this many milliseconds alone: `0` takes every entry. Give more
   * than your longest transaction (uploads included) when the app is running.
   */
  olderThan: number
  /** Entries handled per database transaction. Default 100. */
  batchSize?: number
}

/** One object, as the report of {@link reapLedger} names it. */
export interface ReapedObject {
  backend: string
  key: string
}

/** What {@link reapLedger} did. */
export interface ReapLedgerReport {
  /** Objects of uploads whose transaction never committed, now deleted. */
  deletedUploads: ReapedObject[]
  /** Deletes that a committed transaction scheduled and nobody carried out, now done. */
  completedDeletes: ReapedObject[]
  /**
   * Journal entries (single-connection databases only) of uploads that did commit, since a row
   * references their key: the entry is dropped and the object kept.
   */
  settledUploads: ReapedObject[]
  /** Entries whose object could not be deleted; they stay in the ledger for the next run. */
  failed: ReapedObject[]
  /** The messages of those failures. */
  errors: string[]
}

function objectOf(ref: { backend: string; key: string }): ReapedObject {
  return { backend: ref.backend, key: ref.key }
}

function emptyReport(): ReapLedgerReport {
  return { deletedUploads: [], completedDeletes: [], settledUploads: [], failed: [], errors: [] }
}

/**
 * One batch on a database with row locks: entries old enough are locked `FOR UPDATE SKIP
 * LOCKED`, so two reapers never take the same entry and an entry a running transaction is
 * removing (its row written, its commit pending) is skipped; their objects are deleted; then the
 * entries, in the same transaction. Resolves to the id to continue after, or `undefined` at the end.
 */
async function reapLockedBatch(
  manager: EntityManager,
  metadata: EntityMetadata,
  cutoff: number,
  after: string,
  batchSize: number,
  report: ReapLedgerReport,
): Promise<string | undefined> {
  const entries: StoredObjectLedger[] = await manager
    .createQueryBuilder<ObjectLiteral>(metadata.target, 'entry')
    .where('entry.created <= :cutoff', { cutoff })
    .andWhere('entry.id > :after', { after })
    .orderBy('entry.id', 'ASC')
    .limit(batchSize)
    .setLock('pessimistic_write')
    .setOnLocked('skip_locked')
    .getMany() as StoredObjectLedger[]
  if (entries.length === 0) return undefined
  const gone = await deleteQuietly(entries.map((e): StoredRef => ({ backend: e.backend, key: e.key, entry: e.id })), (m) => report.errors.push(m))
  const goneIds = new Set(gone.map((ref) => ref.entry))
  for (const entry of entries) {
    if (!goneIds.has(entry.id)) report.failed.push(objectOf(entry))
  }
  for (const entry of entries.filter((e) => goneIds.has(e.id))) {
    // Conditional per entry: only the reaper whose delete removed it reports it.
    const result = await manager.createQueryBuilder().delete().from(metadata.target).where('id = :id', { id: entry.id }).callListeners(false).execute()
    if (result.affected === 0) continue
    ;(entry.kind === 'upload' ? report.deletedUploads : report.completedDeletes).push(objectOf(entry))
  }
  return entries[entries.length - 1]!.id
}

/**
 * A database with one connection (sql.js, SQLite): the upload entries are in the journal beside
 * the database file, and an upload committed when a row references its key (the database is
 * this process's own, so every committed row is visible here). The delete entries are in the
 * table, as elsewhere.
 */
async function reapSingleConnection(dataSource: DataSource, metadata: EntityMetadata, cutoff: number, report: ReapLedgerReport): Promise<void> {
  const file = databaseFileOf(dataSource)
  if (file !== undefined) {
    const journal = new LedgerJournal(file)
    const due = journal.pending().filter((entry) => entry.created <= cutoff)
    const settled = new Set<string>()
    if (due.length > 0) {
      const referenced = await referencedKeys(dataSource)
      const abandoned: StoredRef[] = []
      for (const entry of due) {
        if (referenced.get(entry.backend)?.has(entry.key) === true) {
          settled.add(entry.id)
          report.settledUploads.push(objectOf(entry))
        } else {
          abandoned.push({ backend: entry.backend, key: entry.key, entry: entry.id })
        }
      }
      const gone = await deleteQuietly(abandoned, (m) => report.errors.push(m))
      for (const ref of gone) settled.add(ref.entry!)
      for (const ref of abandoned) {
        if (settled.has(ref.entry!)) report.deletedUploads.push(objectOf(ref))
        else report.failed.push(objectOf(ref))
      }
    }
    // Also compacts away the lines of entries settled since (and deletes an empty journal).
    journal.rewrite(settled)
  }
  const entries = (await dataSource.manager
    .createQueryBuilder<ObjectLiteral>(metadata.target, 'entry')
    .where('entry.created <= :cutoff', { cutoff })
    .orderBy('entry.id', 'ASC')
    .getMany()) as StoredObjectLedger[]
  if (entries.length === 0) return
  const gone = await deleteQuietly(entries.map((e): StoredRef => ({ backend: e.backend, key: e.key, entry: e.id })), (m) => report.errors.push(m))
  const goneIds = new Set(gone.map((ref) => ref.entry!))
  if (goneIds.size > 0) {
    await dataSource.createQueryBuilder().delete().from(metadata.target).whereInIds([...goneIds]).callListeners(false).execute()
  }
  for (const entry of entries) {
    if (!goneIds.has(entry.id)) report.failed.push(objectOf(entry))
    else (entry.kind === 'upload' ? report.deletedUploads : report.completedDeletes).push(objectOf(entry))
  }
}

/**
 * Finishes what processes that died left in the ledger, without listing any bucket: deletes the
 * objects of uploads whose transaction never committed, and carries out the deletes that
 * committed transactions scheduled. Entries younger than `olderThan` milliseconds are left
 * alone, so it may run while the app works. Idempotent, and safe to run in several processes at
 * once on PostgreSQL and MySQL/MariaDB (each entry is locked by the one reaper that takes it).
 *
 * Throws a `ConfigError` when `StoredObjectLedger` is not among the DataSource's entities.
 */
export async function reapLedger(dataSource: DataSource, options: ReapLedgerOptions): Promise<ReapLedgerReport> {
  const { olderThan, batchSize = 100 } = options ?? ({} as ReapLedgerOptions)
  if (typeof olderThan !== 'number' || !(olderThan >= 0)) {
    throw new ConfigError('reapLedger: olderThan must be a number of milliseconds, 0 or more')
  }
  const metadata = ledgerMetadata(dataSource)
  if (metadata === undefined) {
    throw new ConfigError(
      `reapLedger: the DataSource has no ledger: add StoredObjectLedger (from 'stowage/typeorm') to its entities ` +
        `(its table "${LEDGER_TABLE}" is made by synchronize or a generated migration)`,
    )
  }
  const cutoff = Date.now() - olderThan
  const report = emptyReport()
  if (isSingleConnection(dataSource)) {
    await reapSingleConnection(dataSource, metadata, cutoff, report)
    return report
  }
  let after = ''
  for (;;) {
    const next: string | undefined = await dataSource.transaction('READ COMMITTED', (manager) =>
      reapLockedBatch(manager, metadata, cutoff, after, batchSize, report),
    )
    if (next === undefined) return report
    after = next
  }
}

