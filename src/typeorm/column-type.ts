import { DataSource } from 'typeorm'
import { StoredObjectTransformer } from './transformer.js'

const INSTALLED = Symbol.for('stowage.typeorm.columnTypeResolver')

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

/** The column type a stored-object column gets on a driver: jsonb, json, or JSON in text. */
export function storedObjectColumnType(driverType: string): 'jsonb' | 'json' | 'simple-json' {
  if (JSONB_DRIVERS.has(driverType)) return 'jsonb'
  if (JSON_DRIVERS.has(driverType)) return 'json'
  return 'simple-json'
}

/**
 * A decorator runs before any DataSource exists, so it cannot know whether the column should be
 * `jsonb` or `json`. TypeORM builds a separate ColumnMetadata per DataSource in `buildMetadatas()`,
 * before it synchronizes or runs migrations, so the type is set there, once the driver is known.
 */
export function installColumnTypeResolver(): void {
  const proto = DataSource.prototype as unknown as {
    [INSTALLED]?: boolean
    buildMetadatas(this: DataSource): Promise<void>
  }
  if (proto[INSTALLED]) return
  const buildMetadatas = proto.buildMetadatas
  proto.buildMetadatas = async function (this: DataSource): Promise<void> {
    await buildMetadatas.call(this)
    const type = storedObjectColumnType(String(this.options.type))
    for (const metadata of this.entityMetadatas) {
      for (const column of metadata.columns) {
        if (column.transformer instanceof StoredObjectTransformer) column.type = type
      }
    }
  }
  proto[INSTALLED] = true
}
