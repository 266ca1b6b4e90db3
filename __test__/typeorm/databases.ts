import 'reflect-metadata'
import { DataSource, type DataSourceOptions } from 'typeorm'
import { StoredObjectDataSource, StoredObjectSubscriber } from '../../src/typeorm/index.js'

/** What a DataSource's `entities` option takes, in TypeORM's own words. */
type Entities = NonNullable<DataSourceOptions['entities']>

/** The databases the TypeORM suites run against. */
export type DatabaseKind = 'postgres' | 'mariadb' | 'sqlite'

export const POSTGRES_URL = process.env.STOWAGE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const MARIADB_URL = process.env.STOWAGE_TEST_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/test'

/**
 * Each suite gets its own PostgreSQL schema or MariaDB database named `namespace`, so suites
 * running in parallel (and `dropSchema`) never touch each other's tables.
 */
export async function createNamespace(kind: DatabaseKind, namespace: string): Promise<void> {
  if (kind === 'sqlite') return
  const admin = new DataSource(kind === 'postgres' ? { type: 'postgres', url: POSTGRES_URL } : { type: 'mariadb', url: MARIADB_URL })
  await admin.initialize()
  try {
    await admin.query(kind === 'postgres' ? `CREATE SCHEMA IF NOT EXISTS "${namespace}"` : `CREATE DATABASE IF NOT EXISTS \`${namespace}\``)
  } finally {
    await admin.destroy()
  }
}

/**
 * DataSource options for `kind`, confined to `namespace`, with the stowage subscriber listed (as
 * a plain `DataSource` needs it; `StoredObjectDataSource` must then not register a second one).
 */
export async function dataSourceOptions(
  kind: DatabaseKind,
  namespace: string,
  entities: Entities,
): Promise<DataSourceOptions> {
  await createNamespace(kind, namespace)
  const common = { entities, subscribers: [StoredObjectSubscriber], synchronize: true, dropSchema: true, logging: false }
  switch (kind) {
    case 'postgres':
      return { ...common, type: 'postgres', url: POSTGRES_URL, schema: namespace, poolSize: 60 }
    case 'mariadb': {
      const url = new URL(MARIADB_URL)
      url.pathname = `/${namespace}`
      return { ...common, type: 'mariadb', url: url.toString(), poolSize: 60 }
    }
    case 'sqlite':
      return { ...common, type: 'sqljs' }
  }
}

/** An initialized `StoredObjectDataSource` for `kind` (see {@link dataSourceOptions}). */
export async function openDataSource(
  kind: DatabaseKind,
  namespace: string,
  entities: Entities,
): Promise<DataSource> {
  const dataSource = new StoredObjectDataSource(await dataSourceOptions(kind, namespace, entities))
  await dataSource.initialize()
  return dataSource
}

/** Every key in `store` under `prefix`, sorted. */
export async function listKeys(store: { list(prefix?: string): AsyncIterable<{ path: string }> }, prefix?: string): Promise<string[]> {
  const keys: string[] = []
  for await (const meta of store.list(prefix)) keys.push(meta.path)
  return keys.sort()
}
