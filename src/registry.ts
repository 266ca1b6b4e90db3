import { ConfigError } from './errors.js'
import { fromUrl } from './from-url.js'
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
    return resolved
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
