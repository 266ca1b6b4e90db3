import type { DataSource, EntityMetadata } from 'typeorm'
import { ConfigError } from '../errors.js'
import { StoredObjectTransformer } from './transformer.js'

const JSONB_DRIVERS = new Set(['postgres', 'cockroachdb'])
const JSON_DRIVERS = new Set([
  'mysql',
  'mariadb',
  'aurora-mysql',
  'sqlite',
  'better-sqlite3',
  'sqljs',
  'capacitor',
  'cordova',
  'expo',
  'react-native',
  'nativescript',
])

/** The type a stored-object column has until its DataSource gives it the driver's own. */
export const PLACEHOLDER_COLUMN_TYPE = 'simple-json'

/** The column type a stored-object column gets on a driver: jsonb, json, or JSON in text. */
export function storedObjectColumnType(driverType: string): 'jsonb' | 'json' | 'simple-json' {
  if (JSONB_DRIVERS.has(driverType)) return 'jsonb'
  if (JSON_DRIVERS.has(driverType)) return 'json'
  return PLACEHOLDER_COLUMN_TYPE
}

/**
 * Gives every stored-object column of `dataSource`'s built metadata the type of its driver.
 *
 * A decorator runs before any DataSource exists, so `@StoredObjectColumn` cannot know whether the
 * column should be `jsonb` or `json`, and TypeORM has no per-driver column type (typeorm#2590,
 * typeorm#12874). TypeORM builds a separate ColumnMetadata per DataSource, so the type is set on
 * those once they exist and before anything reads it: schema synchronization, migration
 * generation, or a query. `StoredObjectDataSource` calls this at that point.
 */
export function applyStoredObjectColumnTypes(dataSource: DataSource): void {
  const type = storedObjectColumnType(String(dataSource.options.type))
  for (const metadata of dataSource.entityMetadatas) {
    for (const column of metadata.columns) {
      if (column.transformer instanceof StoredObjectTransformer) column.type = type
    }
  }
}

/**
 * Throws a `ConfigError` if `column` does not have its driver's type: its DataSource was made
 * with `new DataSource()`, so its schema holds text where jsonb or json belongs.
 */
export function assertStoredObjectColumnType(column: EntityMetadata['columns'][number]): void {
  const driverType = String(column.entityMetadata.dataSource.options.type)
  const expected = storedObjectColumnType(driverType)
  if (column.type === expected) return
  throw new ConfigError(
    `the stored-object column ${column.entityMetadata.name}.${column.propertyPath} has type ` +
      `"${String(column.type)}" where ${driverType} needs "${expected}": its DataSource was made with ` +
      `\`new DataSource(options)\`. Make it with \`new StoredObjectDataSource(options)\` from ` +
      `'stowage/typeorm', which gives these columns their type before TypeORM synchronizes, ` +
      `migrates or queries (a schema synchronized or a migration generated without it has text there).`,
  )
}
