import type { DataSource, ObjectLiteral, Repository } from 'typeorm'
import { afterAll, beforeAll, beforeEach } from 'vitest'
import { MemoryStore, storages, type ObjectStore } from '../../src/index.js'
import { openDataSource, type DatabaseKind } from './databases.js'

/** An entity class, as `repositories` names them. */
type EntityClass = new () => ObjectLiteral

/** How the suite's DataSource is opened: by {@link openDataSource}, or by the suite itself. */
type Opening =
  | { driver: DatabaseKind; database: string; entities: Parameters<typeof openDataSource>[2] }
  | { open: () => Promise<DataSource> }

/** Options of {@link useStoredObjectSuite}. */
export type StoredObjectSuiteOptions<R extends Record<string, EntityClass>, S extends ObjectStore> = Opening & {
  /** The name the entities' `@StoredObjectColumn`s use: `store`'s store is registered under it before each test. */
  backend: string
  /** Makes the store registered under `backend` before each test; a new `MemoryStore` each time unless given. */
  store?: () => S
  /** More backends, each registered before each test with a store from its function, unregistered at the end. */
  otherBackends?: Record<string, () => ObjectStore>
  /** Repositories the tests read as `ctx.<name>`; their tables are cleared before each test. */
  repositories?: R
}

/** What the tests of a {@link useStoredObjectSuite} read; each property is live, so read it in a hook or test. */
export type StoredObjectSuite<R extends Record<string, EntityClass>, S extends ObjectStore> = {
  /** The DataSource, open from the suite's `beforeAll` to its `afterAll`. */
  readonly dataSource: DataSource
  /** This test's store, registered under `backend`. */
  readonly store: S
} & { readonly [K in keyof R]: Repository<InstanceType<R[K]>> }

/**
 * The setup the TypeORM suites share, as vitest hooks of the enclosing `describe` (or file):
 * `beforeAll` opens the DataSource; `beforeEach` registers the test's store under `backend` (a
 * new `MemoryStore` unless `store` says otherwise), and one under each of `otherBackends`, with
 * `{ replace: true }`, then clears the tables of `repositories`; `afterAll` destroys the
 * DataSource and unregisters the backends.
 *
 * ```ts
 * const ctx = useStoredObjectSuite({ driver: 'sqlite', database: 'stowage_x', entities: [Note], backend, repositories: { notes: Note } })
 * it('…', async () => { await ctx.notes.save(…); expect(await listKeys(ctx.store)).toEqual([…]) })
 * ```
 *
 * A suite's own hooks declared after this call run after these `before*` hooks, and (vitest runs
 * `after*` hooks in reverse) before this `afterAll`; declared before it, the other way round.
 */
export function useStoredObjectSuite<R extends Record<string, EntityClass> = Record<never, never>, S extends ObjectStore = MemoryStore>(
  options: StoredObjectSuiteOptions<R, S>,
): StoredObjectSuite<R, S> {
  const { backend, otherBackends = {} } = options
  const repositories: Record<string, EntityClass> = options.repositories ?? {}
  // Without `store`, S is its default, MemoryStore.
  const newStore = options.store ?? ((() => new MemoryStore()) as unknown as () => S)
  let dataSource: DataSource | undefined
  let store: S | undefined

  // Read at definition time (inside the describe callback, outside any hook), these would
  // silently be undefined: say so instead.
  const opened = (): DataSource => dataSource ?? fail('dataSource')
  function fail(what: string): never {
    throw new Error(`useStoredObjectSuite: ${what} is set in the suite's hooks; read it inside a hook or test`)
  }

  beforeAll(async () => {
    dataSource = 'open' in options ? await options.open() : await openDataSource(options.driver, options.database, options.entities)
  })
  afterAll(async () => {
    await dataSource?.destroy()
    storages.unregister(backend)
    for (const name of Object.keys(otherBackends)) storages.unregister(name)
  })
  beforeEach(async () => {
    store = newStore()
    storages.register(backend, store, { replace: true })
    for (const [name, make] of Object.entries(otherBackends)) storages.register(name, make(), { replace: true })
    for (const target of Object.values(repositories)) await opened().getRepository(target).clear()
  })

  const ctx = {
    get dataSource() {
      return opened()
    },
    get store() {
      return store ?? fail('store')
    },
  }
  for (const [name, target] of Object.entries(repositories)) {
    if (name in ctx) throw new Error(`useStoredObjectSuite: a repository cannot be named ${name}`)
    Object.defineProperty(ctx, name, { enumerable: true, get: () => opened().getRepository(target) })
  }
  return ctx as StoredObjectSuite<R, S>
}
