import { ConfigError } from './errors.js'
import { fromUrl } from './from-url.js'
import { StorageFake } from './storage-fake.js'
import type { ObjectStore } from './types.js'

/** Options for {@link StorageRegistry.register}. */
export interface RegisterOptions {
  /** Replace a store already registered under the same name instead of refusing. */
  replace?: boolean
}

/**
 * Named object stores, looked up by the `backend` name a `FileObject` or a
 * `@StoredObjectColumn` carries.
 */
export class StorageRegistry {
  readonly #stores = new Map<string, ObjectStore>()
  // The store each faked name had before its first fake, put back by the fake's restore().
  readonly #originals = new Map<string, ObjectStore>()

  /**
   * Registers `store` (or the store `fromUrl(url)` builds) under `name`.
   * Refuses a name already taken unless `{ replace: true }`.
   */
  register(name: string, store: ObjectStore | string, opts: RegisterOptions = {}): ObjectStore {
    if (typeof name !== 'string' || name.length === 0) {
      throw new ConfigError('storages.register: the name must be a non-empty string')
    }
    if (this.#stores.has(name) && !opts.replace) {
      throw new ConfigError(
        `storages.register: a store is already registered as "${name}"; pass { replace: true } to replace it`,
      )
    }
    const resolved = typeof store === 'string' ? fromUrl(store) : store
    if (resolved == null || typeof resolved.put !== 'function') {
      throw new ConfigError(`storages.register: "${name}" must be an ObjectStore or a URL string`)
    }
    this.#stores.set(name, resolved)
    // A store registered on purpose replaces a fake for good: no restore() undoes it.
    this.#originals.delete(name)
    return resolved
  }

  /**
   * Swaps the store registered as `name` for an empty `MemoryStore` until the returned fake's
   * `restore()`: for tests of code that uses the store by its name (`FileObject`s,
   * `@StoredObjectColumn`s). Faking a name that is already faked starts a new, empty fake;
   * `restore()` of the newest brings back the original. Throws a `ConfigError` when no store is
   * registered as `name`.
   */
  fake(name: string): StorageFake {
    const current = this.get(name)
    const original = this.#originals.get(name) ?? current
    const fake = new StorageFake(name, (done) => {
      if (this.#stores.get(name) !== done.store) return
      this.#stores.set(name, original)
      this.#originals.delete(name)
    })
    this.#stores.set(name, fake.store)
    this.#originals.set(name, original)
    return fake
  }

  /** The store registered as `name`; throws a `ConfigError` naming the registered stores otherwise. */
  get(name: string): ObjectStore {
    const store = this.#stores.get(name)
    if (store === undefined) {
      const known = this.keys()
      const list = known.length > 0 ? known.map((k) => `"${k}"`).join(', ') : 'none'
      throw new ConfigError(`storages.get: no store registered as "${name}" (registered: ${list})`)
    }
    return store
  }

  /** Whether a store is registered as `name`. */
  has(name: string): boolean {
    return this.#stores.has(name)
  }

  /** Removes the store registered as `name`; returns whether one was registered. */
  unregister(name: string): boolean {
    this.#originals.delete(name)
    return this.#stores.delete(name)
  }

  /** The registered names, in registration order. */
  keys(): string[] {
    return [...this.#stores.keys()]
  }
}

// `stowage` and `stowage/typeorm` are separate bundles (and may be loaded as both ESM and CJS):
// a global symbol keeps one registry per process so a store registered through one entry point
// is visible to the other.
const REGISTRY_SYMBOL = Symbol.for('stowage.storages')
const globalSlot = globalThis as { [REGISTRY_SYMBOL]?: StorageRegistry }

/** The process-wide registry of named stores. */
export const storages: StorageRegistry = (globalSlot[REGISTRY_SYMBOL] ??= new StorageRegistry())
