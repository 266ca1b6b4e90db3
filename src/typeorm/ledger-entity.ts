import { Column, Entity, Index, PrimaryColumn, type ValueTransformer } from 'typeorm'

/** What a ledger entry stands for: an upload not yet committed, or a committed delete not yet done. */
export type LedgerEntryKind = 'upload' | 'delete'

// Milliseconds since the epoch in a BIGINT: one type on every driver, no time zone to get wrong,
// and a column TypeORM's migration generator sees as unchanged on a second run.
const EPOCH_MS: ValueTransformer = {
  to: (value: Date | number | undefined) => (value instanceof Date ? value.getTime() : value),
  from: (value: string | number | null) => (value === null ? value : new Date(Number(value))),
}

/**
 * The ledger of objects in flight: add this entity to the `entities` of your
 * `StoredObjectDataSource` (its table, `stowage_ledger`, is made by `synchronize` or by a
 * migration the TypeORM CLI generates).
 *
 * An `upload` entry is committed on its own before the upload starts, and the transaction that
 * writes the row referencing the object removes it in the same commit: an entry left behind means
 * that transaction never committed. A `delete` entry is written inside the transaction that stops
 * referencing the object and removed once the object is deleted after the commit: an entry left
 * behind is a committed delete not yet carried out. `reapLedger` finishes both.
 */
@Entity({ name: 'stowage_ledger' })
export class StoredObjectLedger {
  /** A random UUID, chosen by stowage (no database-side generator, so every driver agrees). */
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string

  /** The `storages` name of the object's store. */
  @Column({ type: 'varchar', length: 255 })
  backend!: string

  /** The object's key in that store. */
  @Column({ type: 'varchar', length: 1024 })
  key!: string

  /** `upload` or `delete`. */
  @Column({ type: 'varchar', length: 6 })
  kind!: LedgerEntryKind

  /** When the entry was written (the writing process's clock). */
  @Index('IDX_stowage_ledger_created')
  @Column({ type: 'bigint', transformer: EPOCH_MS })
  created!: Date
}
