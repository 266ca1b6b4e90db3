import {
  EventSubscriber,
  type AfterQueryEvent,
  type DataSource,
  type EntityMetadata,
  type EntitySubscriberInterface,
  type InsertEvent,
  type LoadEvent,
  type ObjectLiteral,
  type QueryRunner,
  type RemoveEvent,
  type TransactionCommitEvent,
  type TransactionRollbackEvent,
  type TransactionStartEvent,
  type UpdateEvent,
} from 'typeorm'
import type { FileObject } from '../file-object.js'
import { filesOf, objectsOf, objectsToUpload, storedObjectColumns, type StoredObjectColumnInfo } from './column.js'
import { assertStoredObjectColumnType } from './column-type.js'
import { ledgerOf } from './ledger.js'
import { deleteQuietly } from '../delete-quietly.js'
import { sameRef } from './same-ref.js'
import { TransactionFrames, type StoredRef } from './transaction-frames.js'

/** What one entity's write did to storage, carried from its before-event to its after-event. */
interface EntityWrite {
  uploaded: StoredRef[]
  doomed: StoredRef[]
}

function warn(dataSource: DataSource | undefined, message: string): void {
  if (dataSource?.logger) dataSource.logger.log('warn', message)
  else console.warn(message)
}

/** Runs a ledger write that follows a commit or rollback: a failure leaves the entry for `reapLedger`. */
async function quietly(dataSource: DataSource, step: Promise<void>): Promise<void> {
  try {
    await step
  } catch (error) {
    warn(dataSource, `stowage: could not update the ledger (reapLedger will finish it): ${(error as Error)?.message ?? error}`)
  }
}

/**
 * Ties the objects of `@StoredObjectColumn`s to their row's transaction: pending files are
 * uploaded before the row is written; objects uploaded for a transaction (or savepoint) that
 * rolls back are deleted; objects the row stops referencing are deleted once the outermost
 * transaction commits, or right after the write when there is no transaction. When the
 * DataSource has the `StoredObjectLedger` entity, every object in flight is recorded there too,
 * so `reapLedger` can finish what a killed process left.
 *
 * `StoredObjectDataSource` registers it; listing it in `subscribers` as well is harmless. On a
 * DataSource made with `new DataSource()` its first save or load of an entity with stored-object
 * columns throws a `ConfigError`, since that DataSource left the columns without their type.
 */
@EventSubscriber()
export class StoredObjectSubscriber implements EntitySubscriberInterface<ObjectLiteral> {
  readonly #frames = new TransactionFrames()
  readonly #writes = new WeakMap<object, EntityWrite>()
  // Uploads made outside any transaction, kept until their write succeeds so a failed write can
  // still delete them.
  readonly #untransacted = new WeakMap<QueryRunner, StoredRef[]>()
  readonly #columns = new WeakMap<EntityMetadata, StoredObjectColumnInfo[]>()

  #columnsOf(metadata: EntityMetadata | undefined): StoredObjectColumnInfo[] {
    if (metadata === undefined) return []
    let columns = this.#columns.get(metadata)
    if (columns === undefined) {
      columns = storedObjectColumns(metadata)
      // Checked once per metadata, and only cached once it passes, so every use of a
      // misconfigured DataSource keeps failing rather than only the first.
      for (const { column } of columns) assertStoredObjectColumnType(column)
      this.#columns.set(metadata, columns)
    }
    return columns
  }

  /** Refuses to load rows through a DataSource that left the stored-object columns untyped. */
  afterLoad(_entity: ObjectLiteral, event?: LoadEvent<ObjectLiteral>): void {
    this.#columnsOf(event?.metadata)
  }

  /** Uploads the new row's pending files. */
  async beforeInsert(event: InsertEvent<ObjectLiteral>): Promise<void> {
    await this.#prepareWrite(event.metadata, event.entity, undefined, event.queryRunner, true)
  }

  /** Records what the insert uploaded as part of its transaction. */
  async afterInsert(event: InsertEvent<ObjectLiteral>): Promise<void> {
    await this.#finishWrite(event.entity, event.queryRunner, event.dataSource)
  }

  /** Uploads the row's pending files and notes the objects it stops referencing. */
  async beforeUpdate(event: UpdateEvent<ObjectLiteral>): Promise<void> {
    if (event.entity === undefined) return
    await this.#prepareWrite(event.metadata, event.entity, event.databaseEntity, event.queryRunner, false)
  }

  /** Schedules the deletes of the objects the update stopped referencing. */
  async afterUpdate(event: UpdateEvent<ObjectLiteral>): Promise<void> {
    if (event.entity === undefined) return
    await this.#finishWrite(event.entity, event.queryRunner, event.dataSource)
  }

  /** Notes every object the removed row references. */
  beforeRemove(event: RemoveEvent<ObjectLiteral>): void {
    const columns = this.#columnsOf(event.metadata)
    const row = event.databaseEntity ?? event.entity
    const owner = event.entity ?? event.databaseEntity
    if (columns.length === 0 || row === undefined || owner === undefined) return
    const doomed = columns.flatMap(({ column }) => filesOf(column.getEntityValue(row)).flatMap(objectsOf))
    if (doomed.length > 0) this.#writes.set(owner, { uploaded: [], doomed })
  }

  /** Schedules the deletes of the removed row's objects. */
  async afterRemove(event: RemoveEvent<ObjectLiteral>): Promise<void> {
    const owner = event.entity ?? event.databaseEntity
    if (owner !== undefined) await this.#finishWrite(owner, event.queryRunner, event.dataSource)
  }

  /** Opens a frame for the new transaction or savepoint. */
  afterTransactionStart(event: TransactionStartEvent): void {
    this.#frames.opened(event.queryRunner)
  }

  /** Hands a savepoint's work to its parent, or applies the deletes at the outermost commit. */
  async afterTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    const { dataSource, queryRunner } = event
    const done = this.#frames.committed(queryRunner)
    if (done === undefined) return
    const ledger = ledgerOf(dataSource)
    if (ledger !== undefined) {
      try {
        await ledger.committed(queryRunner, done.uploaded)
      } catch (error) {
        // The commit may not be on disk: deleting now could leave a stored row without its object.
        warn(dataSource, `stowage: deletes left to reapLedger, the commit could not be made durable: ${(error as Error)?.message ?? error}`)
        return
      }
    }
    if (done.doomed.length === 0) return
    const gone = await deleteQuietly(done.doomed, (m) => warn(dataSource, m))
    if (ledger !== undefined) await quietly(dataSource, ledger.forgetDeletes(gone, queryRunner))
  }

  /** Deletes what the rolled-back transaction or savepoint uploaded, and forgets its deletes. */
  async afterTransactionRollback(event: TransactionRollbackEvent): Promise<void> {
    const { dataSource, queryRunner } = event
    const uploaded = this.#frames.rolledBack(queryRunner)
    if (uploaded.length === 0) return
    const gone = await deleteQuietly(uploaded, (m) => warn(dataSource, m))
    // After a savepoint's rollback the enclosing transaction holds the entries' locks (InnoDB
    // keeps them), so they are removed in it: if it rolls back too, reapLedger deletes again.
    const ledger = ledgerOf(dataSource)
    if (ledger !== undefined) await quietly(dataSource, ledger.forgetUploads(gone, queryRunner))
  }

  /** A write that failed outside a transaction leaves its uploads unreferenced: delete them. */
  async afterQuery(event: AfterQueryEvent): Promise<void> {
    if (event.success || event.queryRunner?.isTransactionActive) return
    const pending = this.#untransacted.get(event.queryRunner)
    if (pending === undefined || pending.length === 0) return
    this.#untransacted.delete(event.queryRunner)
    await deleteQuietly(pending, (m) => warn(event.dataSource, m))
  }

  async #prepareWrite(
    metadata: EntityMetadata,
    entity: ObjectLiteral,
    previous: ObjectLiteral | undefined,
    queryRunner: QueryRunner,
    isInsert: boolean,
  ): Promise<void> {
    const columns = this.#columnsOf(metadata)
    if (columns.length === 0) return

    const pending: Array<{ file: FileObject; info: StoredObjectColumnInfo }> = []
    const doomed: StoredRef[] = []
    for (const info of columns) {
      const { column, options } = info
      const value: unknown = column.getEntityValue(entity)
      if (value === undefined) {
        if (isInsert && options.multiple && !options.nullable) column.setEntityValue(entity, [])
        continue
      }
      const files = filesOf(value)
      for (const file of files) {
        file.applyDefaults({ backend: options.backend, keyPrefix: options.keyPrefix })
        if (file.hasPendingContent) pending.push({ file, info })
      }
      if (previous !== undefined) {
        // An object stays when the new value still has it: a kept file and its derivatives, or
        // a new upload (and its derivatives) to the same key.
        const kept = files.flatMap((file) => (file.hasPendingContent ? objectsToUpload(file, options) : objectsOf(file)))
        for (const old of filesOf(column.getEntityValue(previous))) {
          for (const ref of objectsOf(old)) if (!kept.some((k) => sameRef(k, ref))) doomed.push(ref)
        }
      }
    }

    // Every file is checked as far as it can be before any is uploaded, so a refused save
    // leaves storage untouched; a stream's bytes are checked as they are read, and a refusal
    // there aborts its upload (and the others are deleted below or by the rollback).
    for (const { file, info } of pending) await file.checkPending(info.options)

    const dataSource = queryRunner.dataSource
    const ledger = ledgerOf(dataSource)
    const frame = this.#frames.current(queryRunner)
    // A file's backend and key, and so its derivatives' keys, are known before its upload: the
    // ledger records them first, and the rollback deletes every key it may have reached (a
    // missing one is no error).
    const refs: StoredRef[] = pending.flatMap(({ file, info }) => objectsToUpload(file, info.options))
    if (ledger !== undefined) await ledger.recordUploads(refs)
    if (frame !== undefined) frame.uploaded.push(...refs)
    const outcomes = await Promise.allSettled(
      pending.map(({ file, info }) => {
        const { maxSize, allowedContentTypes, maxImageWidth, maxImageHeight, derivatives } = info.options
        return file.save({ maxSize, allowedContentTypes, maxImageWidth, maxImageHeight, derivatives })
      }),
    )
    const uploaded = refs
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected')
    if (failure !== undefined) {
      // Inside a transaction the rollback deletes them; outside one nothing else will.
      if (frame === undefined) {
        const gone = await deleteQuietly(refs, (m) => warn(dataSource, m))
        if (ledger !== undefined) await quietly(dataSource, ledger.forgetUploads(gone))
      }
      throw failure.reason
    }
    // Without a transaction the row's write cannot remove the entries in its own commit; they go
    // before it, so a kill in between leaves an object without a row (for sweepOrphans), never a
    // row without its object.
    if (frame === undefined && ledger !== undefined) await ledger.forgetUploads(refs)
    if (frame === undefined && uploaded.length > 0) {
      const untransacted = this.#untransacted.get(queryRunner) ?? []
      untransacted.push(...uploaded)
      this.#untransacted.set(queryRunner, untransacted)
    }
    if (uploaded.length > 0 || doomed.length > 0) this.#writes.set(entity, { uploaded, doomed })
  }

  async #finishWrite(entity: ObjectLiteral, queryRunner: QueryRunner, dataSource: DataSource): Promise<void> {
    const write = this.#writes.get(entity)
    if (write === undefined) return
    this.#writes.delete(entity)
    const frame = this.#frames.current(queryRunner)
    const ledger = ledgerOf(dataSource)
    if (frame !== undefined) {
      if (ledger !== undefined) {
        await ledger.settleUploads(queryRunner, write.uploaded)
        await ledger.recordDeletes(queryRunner, write.doomed)
      }
      frame.doomed.push(...write.doomed)
      return
    }
    const untransacted = this.#untransacted.get(queryRunner)
    if (untransacted !== undefined) {
      const remaining = untransacted.filter((ref) => !write.uploaded.some((done) => sameRef(done, ref)))
      if (remaining.length > 0) this.#untransacted.set(queryRunner, remaining)
      else this.#untransacted.delete(queryRunner)
    }
    if (write.doomed.length === 0) return
    if (ledger !== undefined) await ledger.recordDeletes(queryRunner, write.doomed)
    const gone = await deleteQuietly(write.doomed, (m) => warn(dataSource, m))
    if (ledger !== undefined) await quietly(dataSource, ledger.forgetDeletes(gone, queryRunner))
  }
}
