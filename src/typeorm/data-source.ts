import { DataSource } from 'typeorm'
import { applyStoredObjectColumnTypes } from './column-type.js'
import { StoredObjectSubscriber } from './subscriber.js'

/**
 * A TypeORM `DataSource` for entities with `@StoredObjectColumn`s: use it wherever
 * `new DataSource(options)` would go, with the same options (the TypeORM CLI's data-source file,
 * NestJS's `dataSourceFactory`, `initialize()` in an app).
 *
 * It gives those columns their type on its driver (`jsonb` on PostgreSQL, `json` on MySQL,
 * MariaDB and SQLite) and registers a `StoredObjectSubscriber` unless `subscribers` has one.
 * A plain `DataSource` does neither; its first save or load of such an entity throws a
 * `ConfigError` if the subscriber is registered there by hand.
 */
export class StoredObjectDataSource extends DataSource {
  /**
   * TypeORM's step that builds this DataSource's entity metadata and subscribers, run by
   * `initialize()` before it drops, migrates or synchronizes the schema: the one point where the
   * driver is known, the column metadata exists, and nothing has read its type yet. Overriding
   * it (it is `protected` for subclasses) changes this DataSource only, not `DataSource` itself.
   */
  protected override async buildMetadatas(): Promise<void> {
    await super.buildMetadatas()
    applyStoredObjectColumnTypes(this)
    if (!this.subscribers.some((subscriber) => subscriber instanceof StoredObjectSubscriber)) {
      this.subscribers.push(new StoredObjectSubscriber())
    }
  }
}
