/**
 * The setup step of stowage/typeorm: `StoredObjectDataSource` gives stored-object columns their
 * type per database and registers the subscriber; importing the library changes nothing of
 * TypeORM's; and a plain `DataSource`, the step forgotten, fails loudly at its first save or load.
 */
import { fileURLToPath } from 'node:url'
import { DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ConfigError, FileObject, MemoryStore, storages, type ObjectStore } from '../../src/index.js'
import { StoredObjectColumn, StoredObjectDataSource, StoredObjectSubscriber } from '../../src/typeorm/index.js'
import { bundleLibrary, lastJsonLine, runNode } from '../fixtures/child-process.js'
import { dataSourceOptions, listKeys, type DatabaseKind } from './databases.js'

const PROBE = fileURLToPath(new URL('./prototype-probe.mjs', import.meta.url))
const NAMESPACE = 'stowage_setup'
const TABLE = 'setup_upload'
const backend = 'setup-test'

@Entity({ name: TABLE })
class Upload {
  @PrimaryGeneratedColumn()
  id!: number

  @StoredObjectColumn({ backend, nullable: true })
  file!: FileObject | null
}


interface ProbeReport {
  sameTypeorm: boolean
  prototypeKeys: number
  prototype: { added: string[]; removed: string[]; changed: string[] }
  statics: { added: string[]; removed: string[]; changed: string[] }
  storedObjectType: string
  plainType: string
}

describe('importing stowage/typeorm', () => {
  it('leaves DataSource and DataSource.prototype untouched, in a process of its own', async () => {
    const library = await bundleLibrary('stowage-typeorm-prototype-probe', { entry: 'src/typeorm/index.ts', external: ['typeorm', 'reflect-metadata'] })
    const child = await runNode(PROBE, [library], { timeoutMs: 30_000 })
    expect(child.code, child.stderr).toBe(0)
    const report = lastJsonLine<ProbeReport>(child.stdout)
    // The library extends the very DataSource class the probe looked at.
    expect(report.sameTypeorm).toBe(true)
    expect(report.prototypeKeys).toBeGreaterThan(20)
    expect(report.prototype).toEqual({ added: [], removed: [], changed: [] })
    expect(report.statics).toEqual({ added: [], removed: [], changed: [] })
    // Only the StoredObjectDataSource typed the column; the plain one, made after it, did not.
    expect(report.storedObjectType).toBe('json')
    expect(report.plainType).toBe('simple-json')
  })
})

/**
 * The column's type as the database reports it: PostgreSQL's and MariaDB's information schema,
 * SQLite's table info (it has no information schema). MariaDB's JSON is an alias of LONGTEXT
 * with a json_valid() check.
 */
async function columnTypeInDatabase(dataSource: DataSource, kind: DatabaseKind): Promise<string> {
  switch (kind) {
    case 'postgres': {
      const [row] = await dataSource.query<Array<{ data_type: unknown }>>(
        `SELECT data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND column_name = 'file'`,
        [NAMESPACE, TABLE],
      )
      return String(row!.data_type)
    }
    case 'mariadb': {
      const [row] = await dataSource.query<Array<{ type: unknown }>>(
        `SELECT DATA_TYPE AS type FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COLUMN_NAME = 'file'`,
        [NAMESPACE, TABLE],
      )
      const checks: Array<{ clause: string }> = await dataSource.query(
        `SELECT CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?`,
        [NAMESPACE, TABLE],
      )
      const jsonValid = checks.some(({ clause }) => clause.includes('json_valid(`file`)'))
      return `${String(row!.type)}${jsonValid ? ' + json_valid check' : ''}`
    }
    case 'sqlite': {
      const columns: Array<{ name: string; type: string }> = await dataSource.query(`PRAGMA table_info(${TABLE})`)
      // Declared types are case-insensitive in SQLite; TypeORM writes "json" but "TEXT".
      return columns.find((column) => column.name === 'file')!.type.toLowerCase()
    }
  }
}

const newUpload = (name: string) => Object.assign(new Upload(), { file: new FileObject({ filename: name, content: `content of ${name}` }) })

const expectedType: Record<DatabaseKind, { design: string; inDatabase: string }> = {
  postgres: { design: 'jsonb', inDatabase: 'jsonb' },
  mariadb: { design: 'json', inDatabase: 'longtext + json_valid check' },
  sqlite: { design: 'json', inDatabase: 'json' },
}

describe.each(['postgres', 'mariadb', 'sqlite'] as const)('the DataSource on %s', (kind) => {
  let store: ObjectStore

  beforeAll(() => {
    store = new MemoryStore()
    storages.register(backend, store, { replace: true })
  })
  afterAll(() => {
    storages.unregister(backend)
  })
  beforeEach(async () => {
    for await (const meta of store.list()) await store.delete(meta.path)
  })

  it(`StoredObjectDataSource makes the column ${expectedType[kind].design}, and files round-trip through it`, async () => {
    const dataSource = new StoredObjectDataSource(await dataSourceOptions(kind, NAMESPACE, [Upload]))
    await dataSource.initialize()
    try {
      expect(dataSource.getMetadata(Upload).findColumnWithPropertyName('file')!.type).toBe(expectedType[kind].design)
      expect(await columnTypeInDatabase(dataSource, kind)).toBe(expectedType[kind].inDatabase)
      const saved = await dataSource.getRepository(Upload).save(newUpload('kept.txt'))
      expect(await listKeys(store)).toEqual([saved.file.key])
      const loaded = await dataSource.getRepository(Upload).findOneByOrFail({ id: saved.id })
      expect((await loaded.file!.getContent()).toString()).toBe('content of kept.txt')
      if (kind === 'sqlite') {
        const [row] = await dataSource.query<Array<{ storage: string }>>(`SELECT typeof(file) AS storage FROM ${TABLE}`)
        expect(row!.storage).toBe('text')
      }
    } finally {
      await dataSource.destroy()
    }
  })

  it(`a migration generated from StoredObjectDataSource declares the column ${expectedType[kind].design}`, async () => {
    // What `typeorm migration:generate` does: initialize without synchronizing, then ask the
    // schema builder for the SQL that would bring the (here empty) schema up to the entities.
    const options = { ...(await dataSourceOptions(kind, NAMESPACE, [Upload])), synchronize: false }
    const dataSource = new StoredObjectDataSource(options)
    await dataSource.initialize()
    try {
      const { upQueries } = await dataSource.driver.createSchemaBuilder().log()
      const createTable = upQueries.map((q) => q.query).find((sql) => sql.startsWith('CREATE TABLE'))
      const quote = kind === 'mariadb' ? '`' : '"'
      expect(createTable).toMatch(new RegExp(`${quote}file${quote} ${expectedType[kind].design}\\b`))
    } finally {
      await dataSource.destroy()
    }
  })

  it('a plain DataSource leaves the column text, and its first save and first load throw a ConfigError', async () => {
    const dataSource = new DataSource(await dataSourceOptions(kind, NAMESPACE, [Upload]))
    await dataSource.initialize()
    try {
      expect(await columnTypeInDatabase(dataSource, kind)).toBe('text')
      const uploads = dataSource.getRepository(Upload)
      const message = new RegExp(
        `Upload\\.file has type "simple-json" where ${kind === 'sqlite' ? 'sqljs' : kind} needs "${expectedType[kind].design}".*` +
          `new StoredObjectDataSource\\(options\\)`,
      )

      const saveError = await uploads.save(newUpload('refused.txt')).catch((e: unknown) => e)
      expect(saveError).toBeInstanceOf(ConfigError)
      expect((saveError as ConfigError).code).toBe('INVALID_CONFIG')
      expect((saveError as Error).message).toMatch(message)
      expect(await listKeys(store)).toEqual([])
      expect(await uploads.count()).toBe(0)

      // A row written without the subscriber (by an earlier deployment, say) is not handed out.
      const existing = FileObject.fromJSON({ backend, key: 'old/file.txt', filename: 'file.txt', size: 1 })
      const { identifiers } = await uploads.createQueryBuilder().insert().values({ file: existing }).callListeners(false).execute()
      expect(await uploads.count()).toBe(1)
      await expect(uploads.find()).rejects.toThrow(message)
      await expect(uploads.findOneBy({ id: identifiers[0]!.id as number })).rejects.toBeInstanceOf(ConfigError)
    } finally {
      await dataSource.destroy()
    }
  })
})

describe('StoredObjectDataSource subscribers', () => {
  let store: ObjectStore
  beforeAll(() => {
    store = new MemoryStore()
    storages.register(backend, store, { replace: true })
  })
  afterAll(() => {
    storages.unregister(backend)
  })

  it('registers one StoredObjectSubscriber when none is listed, and it uploads and deletes', async () => {
    const options = await dataSourceOptions('sqlite', NAMESPACE, [Upload])
    const dataSource = new StoredObjectDataSource({ ...options, subscribers: [] })
    await dataSource.initialize()
    try {
      expect(dataSource.subscribers.filter((s) => s instanceof StoredObjectSubscriber)).toHaveLength(1)
      const uploads = dataSource.getRepository(Upload)
      const saved = await uploads.save(newUpload('auto.txt'))
      expect(await listKeys(store)).toEqual([saved.file.key])
      await uploads.remove(saved)
      expect(await listKeys(store)).toEqual([])
    } finally {
      await dataSource.destroy()
    }
  })

  it('adds none when StoredObjectSubscriber is listed already', async () => {
    const options = await dataSourceOptions('sqlite', NAMESPACE, [Upload])
    expect(options.subscribers).toEqual([StoredObjectSubscriber])
    const dataSource = new StoredObjectDataSource(options)
    await dataSource.initialize()
    try {
      expect(dataSource.subscribers).toHaveLength(1)
      expect(dataSource.subscribers[0]).toBeInstanceOf(StoredObjectSubscriber)
    } finally {
      await dataSource.destroy()
    }
  })
})
