/** `storages.fake(name)`: a registered store swapped for a `MemoryStore` in the user's tests. */
import { AssertionError } from 'node:assert'
import { NotFoundError } from './errors.js'
import { MemoryStore } from './memory-store.js'

/** How many of the fake's keys an assertion's message lists. */
const LISTED_KEYS = 20

/**
 * The `MemoryStore` standing in for a registered store while a test runs, returned by
 * `storages.fake(name)`. Everything that looks the store up by its name — `FileObject`s, the
 * `@StoredObjectColumn`s of TypeORM entities, `storages.get(name)` — uses `store` until
 * `restore()`. The assertions are async, as every store operation is: `await` them.
 */
export class StorageFake {
  /** The registered name this fake stands in for. */
  readonly name: string
  /** The in-memory store registered under `name` while the fake is in place. */
  readonly store: MemoryStore
  readonly #restore: (fake: StorageFake) => void

  /** @internal made by `storages.fake(name)` */
  constructor(name: string, restore: (fake: StorageFake) => void) {
    this.name = name
    this.store = new MemoryStore()
    this.#restore = restore
  }

  /** Resolves when `key` exists in the fake; otherwise rejects with an `AssertionError` naming the keys it holds. */
  async assertExists(key: string): Promise<void> {
    if (await this.#exists(key)) return
    throw await this.#failure(`expected "${key}" to exist in the fake of "${this.name}", but it does not`, key, 'exists')
  }

  /** Resolves when `key` does not exist in the fake; otherwise rejects with an `AssertionError`. */
  async assertMissing(key: string): Promise<void> {
    if (!(await this.#exists(key))) return
    throw await this.#failure(`expected "${key}" to be missing from the fake of "${this.name}", but it exists`, key, 'missing')
  }

  /**
   * Puts the original store back under `name`. Does nothing when this fake is no longer in
   * place: already restored, replaced by a later `fake(name)` (whose `restore()` brings back the
   * original), or by a `register(name, …, { replace: true })`.
   */
  restore(): void {
    this.#restore(this)
  }

  async #exists(key: string): Promise<boolean> {
    try {
      await this.store.head(key)
      return true
    } catch (error) {
      if (error instanceof NotFoundError) return false
      throw error
    }
  }

  async #failure(message: string, key: string, operator: string): Promise<AssertionError> {
    const keys: string[] = []
    for await (const meta of this.store.list()) keys.push(meta.path)
    keys.sort()
    const shown = keys.slice(0, LISTED_KEYS).map((k) => `"${k}"`)
    if (keys.length > LISTED_KEYS) shown.push(`… ${keys.length - LISTED_KEYS} more`)
    const holds = keys.length === 0 ? 'it holds no objects' : `it holds ${keys.length}: ${shown.join(', ')}`
    return new AssertionError({ message: `${message} (${holds})`, actual: keys, expected: key, operator })
  }
}
