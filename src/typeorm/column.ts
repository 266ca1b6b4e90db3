import { Column, type ColumnOptions, type EntityMetadata } from 'typeorm'
import { assertDerivativeSpecs, derivativeKey } from '../derivatives.js'
import { FileObject } from '../file-object.js'
import { PLACEHOLDER_COLUMN_TYPE } from './column-type.js'
import { StoredObjectTransformer, type StoredObjectColumnOptions } from './transformer.js'

export { StoredObjectTransformer, type StoredObjectColumnOptions }

/**
 * A column holding a `FileObject` (or, with `multiple`, a `FileObject[]`): its metadata is kept
 * as `jsonb` on PostgreSQL, `json` on MySQL/MariaDB and JSON text on SQLite; its bytes live in
 * the `backend` store. Its entity must be used through a `StoredObjectDataSource`, which gives the
 * column that type and registers the `StoredObjectSubscriber` that uploads files before the row
 * is written and deletes them after the change commits.
 */
export function StoredObjectColumn(options: StoredObjectColumnOptions): PropertyDecorator {
  if (typeof options?.backend !== 'string' || options.backend.length === 0) {
    throw new TypeError('@StoredObjectColumn: the "backend" option (a name registered in storages) is required')
  }
  assertDerivativeSpecs(options.derivatives, '@StoredObjectColumn')
  const columnOptions: ColumnOptions = {
    // A type every driver accepts while metadata is validated; StoredObjectDataSource then switches
    // it to jsonb or json where the driver has one (the driver is unknown while decorating).
    type: PLACEHOLDER_COLUMN_TYPE,
    nullable: options.nullable ?? false,
    transformer: new StoredObjectTransformer(options),
  }
  if (options.name !== undefined) columnOptions.name = options.name
  if (options.comment !== undefined) columnOptions.comment = options.comment
  return Column(columnOptions)
}

/** TypeORM's metadata of one column (not exported from its package root). */
export type ColumnMetadata = EntityMetadata['columns'][number]

/** A stored-object column of an entity, with the options it was declared with. */
export interface StoredObjectColumnInfo {
  column: ColumnMetadata
  options: Readonly<StoredObjectColumnOptions>
}

/** The `@StoredObjectColumn`s of an entity. */
export function storedObjectColumns(metadata: EntityMetadata): StoredObjectColumnInfo[] {
  const found: StoredObjectColumnInfo[] = []
  for (const column of metadata.columns) {
    const transformer = column.transformer
    if (transformer instanceof StoredObjectTransformer) found.push({ column, options: transformer.options })
  }
  return found
}

/** The files a stored-object column's value holds, whether one, a list or none. */
export function filesOf(value: unknown): FileObject[] {
  if (Array.isArray(value)) return value.filter((item): item is FileObject => FileObject.isFileObject(item))
  return FileObject.isFileObject(value) ? [value] : []
}

/** One object in one store, as the lifecycle tracks it. */
export interface ObjectOfFile {
  backend: string
  key: string
}

/** The objects a stored file stands for: its own and its derivatives'. */
export function objectsOf(file: FileObject): ObjectOfFile[] {
  return [file, ...Object.values(file.derivatives)].map(({ backend, key }) => ({ backend, key }))
}

/**
 * The objects saving `file` in a column with `options` may write: its own and, for each of the
 * column's derivatives, `<key>.derivatives/<name>` (known before the upload, so the ledger and
 * the rollback can cover them; a derivative function that returns `null` leaves its key unused).
 */
export function objectsToUpload(file: FileObject, options: Pick<StoredObjectColumnOptions, 'derivatives'>): ObjectOfFile[] {
  const own = { backend: file.backend, key: file.key }
  return [own, ...Object.keys(options.derivatives ?? {}).map((name) => ({ backend: file.backend, key: derivativeKey(file.key, name) }))]
}
