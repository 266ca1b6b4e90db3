import { randomUUID } from 'node:crypto'
import type { DataSource, EntityMetadata, EntityTarget, ObjectLiteral, QueryRunner } from 'typeorm'
import { PreconditionError } from '../errors.js'
import { LedgerJournal } from './ledger-journal.js'
import type { LedgerEntryKind, StoredObjectLedger } from './ledger-entity.js'
import type { StoredRef } from './transaction-frames.js'

/** The table `StoredObjectLedger` maps to; found by name, so that any copy of the entity class counts. */
export const LEDGER_TABLE = 'stowage_ledger'

// Drivers whose DataSource has one connection: nothing can be committed beside an open transaction.
const SINGLE_CONNECTION_DRIVERS = new Set(['sqljs', 'sqlite', 'better-sqlite3', 'capacitor', 'cordova', 'expo', 'react-native', 'nativescript'])

/** Whether `dataSource`'s driver has one connection, so nothing can commit beside an open transaction. */
export function isSingleConnection(dataSource: DataSource): boolean {
  return SINGLE_CONNECTION_DRIVERS.has(String(dataSource.options.type))
}

/** The ledger entity's metadata in `dataSource`, or `undefined` when it is not one of its entities. */
export function ledgerMetadata(dataSource: DataSource): EntityMetadata | undefined {
  return dataSource.entityMetadatas.find((metadata) => metadata.tableName === LEDGER_TABLE)
}

/** The database file of a single-connection driver, beside which its journal lives. */
export function databaseFileOf(dataSource: DataSource): string | undefined {
  const options = dataSource.options as { type: string; location?: string; database?: unknown }
  if (options.type === 'sqljs') return options.location
  if (!isSingleConnection(dataSource)) return undefined
  return typeof options.database === 'string' && options.database !== ':memory:' && options.database !== '' ? options.database : undefined
}

function entriesOf(refs: StoredRef[], kind: LedgerEntryKind): StoredObjectLedger[] {
  const created = new Date()
  return refs.map((ref) => {
    ref.entry ??= randomUUID()
    return { id: ref.entry, backend: ref.backend, key: ref.key, kind, created }
  })
}

function idsOf(refs: StoredRef[]): string[] {
  return refs.flatMap((ref) => (ref.entry === undefined ? [] : [ref.entry]))
}

/**
 * The subscriber's side of the ledger of one DataSource: writes and removes the entries of the
 * objects its transactions upload and delete. Every method that takes a `queryRunner` works in
 * that runner's transaction (or, with none open, commits at once); the others commit on their own.
 */
export class Ledger {
  readonly #dataSource: DataSource
  readonly #target: EntityTarget<ObjectLiteral>
  /** Set for single-connection drivers with a database file: upload entries go there. */
  readonly #journal: LedgerJournal | undefined
  readonly #singleConnection: boolean

  constructor(dataSource: DataSource, metadata: EntityMetadata) {
    this.#dataSource = dataSource
    this.#target = metadata.target
    this.#singleConnection = isSingleConnection(dataSource)
    const file = databaseFileOf(dataSource)
    this.#journal = file === undefined ? undefined : new LedgerJournal(file)
  }

  /**
   * Commits `upload` entries for `refs` before their uploads start: on a connection of its own
   * (outside any open transaction), or, where the driver has one connection, in the journal
   * beside the database file (written and fsynced). An in-memory single-connection database
   * dies with the process, so it records nothing.
   */
  async recordUploads(refs: StoredRef[]): Promise<void> {
    if (refs.length === 0) return
    const entries = entriesOf(refs, 'upload')
    if (this.#singleConnection) {
      this.#journal?.append(entries)
      return
    }
    // No query runner given: TypeORM takes a connection of the pool and commits the insert on it.
    await this.#dataSource.createQueryBuilder().insert().into(this.#target).values(entries).callListeners(false).updateEntity(false).execute()
  }

  /**
   * Removes the `upload` entries of `refs` in the transaction that writes their row, so the row
   * and the removal commit together. Throws when an entry is gone: `reapLedger` took the upload
   * for an abandoned one (and deleted its object), so this write must not commit.
   */
  async settleUploads(queryRunner: QueryRunner, refs: StoredRef[]): Promise<void> {
    const ids = idsOf(refs)
    for (const ref of refs) ref.settled = true
    // The journal's entries are settled by the row itself: reapLedger keeps an entry whose key a
    // row references, and the journal line goes once the commit is on disk (see `committed`).
    if (ids.length === 0 || this.#singleConnection) return
    const missing = await this.#removeInTransaction(queryRunner, ids)
    if (missing > 0) {
      throw new PreconditionError(
        `stowage: ${missing} upload(s) of this write were reaped by reapLedger while in flight ` +
          `(its olderThan is shorter than this transaction); the write is refused so no row points at a deleted object`,
      )
    }
  }

  /** Writes `delete` entries for `refs` in `queryRunner`'s transaction, to be carried out after its commit. */
  async recordDeletes(queryRunner: QueryRunner, refs: StoredRef[]): Promise<void> {
    if (refs.length === 0) return
    await queryRunner.manager.createQueryBuilder().insert().into(this.#target).values(entriesOf(refs, 'delete')).callListeners(false).updateEntity(false).execute()
  }

  /**
   * The outermost transaction of `queryRunner` committed: make sure the commit is durable before
   * any object is deleted, then drop the journal lines of the uploads its rows now reference.
   *
   * sql.js runs TypeORM's after-commit event before it writes the database file, so a process
   * killed in between would leave the file without the commit while its deletes were done; the
   * runner's own `flush()` (the write TypeORM does next) is run first, and TypeORM's then finds
   * nothing left to write.
   */
  async committed(queryRunner: QueryRunner, uploaded: StoredRef[]): Promise<void> {
    const flush = (queryRunner as QueryRunner & { flush?: () => Promise<void> }).flush
    if (typeof flush === 'function') await flush.call(queryRunner)
    this.#journal?.remove(idsOf(uploaded.filter((ref) => ref.settled === true)))
  }

  /**
   * Removes the `upload` entries of `refs`, whose objects are now deleted (or, outside a
   * transaction, about to be referenced): in `queryRunner`'s open transaction when given one that
   * is open, else committed on their own.
   */
  async forgetUploads(refs: StoredRef[], queryRunner?: QueryRunner): Promise<void> {
    const ids = idsOf(refs)
    if (ids.length === 0) return
    if (this.#singleConnection) this.#journal?.remove(ids)
    else await this.#remove(ids, queryRunner)
  }

  /** Removes the `delete` entries of `refs`, whose objects are now deleted (as `forgetUploads`). */
  async forgetDeletes(refs: StoredRef[], queryRunner?: QueryRunner): Promise<void> {
    const ids = idsOf(refs)
    if (ids.length > 0) await this.#remove(ids, queryRunner)
  }

  async #remove(ids: string[], queryRunner: QueryRunner | undefined): Promise<void> {
    if (queryRunner !== undefined && !queryRunner.isReleased && queryRunner.isTransactionActive) {
      await this.#removeInTransaction(queryRunner, ids)
      return
    }
    const usable = queryRunner !== undefined && !queryRunner.isReleased
    const builder = usable ? queryRunner.manager.createQueryBuilder() : this.#dataSource.createQueryBuilder()
    await builder.delete().from(this.#target).whereInIds(ids).callListeners(false).execute()
  }

  /**
   * Removes the entries `ids` in `queryRunner`'s open transaction, one `id = ?` statement each,
   * and resolves to how many were already gone. InnoDB locks only the record such a statement
   * finds, where an `id IN (...)` of several is a range search that locks the gaps between them
   * too: the transaction's next save, whose entries another connection inserts, would then wait
   * on those gaps for this very transaction, until a lock wait timeout.
   */
  async #removeInTransaction(queryRunner: QueryRunner, ids: string[]): Promise<number> {
    let missing = 0
    for (const id of ids) {
      const result = await queryRunner.manager.createQueryBuilder().delete().from(this.#target).where('id = :id', { id }).callListeners(false).execute()
      if (result.affected === 0) missing++
    }
    return missing
  }
}

const ledgers = new WeakMap<DataSource, Ledger | null>()

/** The ledger of `dataSource`, or `undefined` when `StoredObjectLedger` is not among its entities. */
export function ledgerOf(dataSource: DataSource): Ledger | undefined {
  let ledger = ledgers.get(dataSource)
  if (ledger === undefined) {
    const metadata = ledgerMetadata(dataSource)
    ledger = metadata === undefined ? null : new Ledger(dataSource, metadata)
    ledgers.set(dataSource, ledger)
  }
  return ledger ?? undefined
}
