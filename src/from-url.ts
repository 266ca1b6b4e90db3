/** `fromUrl`: a store of any kind from a URL. */
import { checkOptions, describeValue } from './arguments.js'
import { buildNativeStore } from './build-native-store.js'
import { ConfigError } from './errors.js'
import native from './native.js'
import { Store } from './store.js'

/** Options of `fromUrl`, passed on to the backend as `object_store` configuration keys. */
export type FromUrlOptions = Record<string, string | boolean | number | undefined>

/** A store from a URL: `memory://`, `file:///abs/dir`, `s3://bucket/prefix`, `gs://…`, `az://…`, `https://…`. */
export function fromUrl(url: string, opts?: FromUrlOptions | null): Store {
  if (typeof url !== 'string') throw new ConfigError(`fromUrl() takes a URL string, got ${describeValue(url)}`)
  const options: Record<string, string> = {}
  for (const [key, value] of Object.entries(checkOptions<FromUrlOptions>(opts, 'fromUrl() options'))) {
    if (value === undefined || value === null) continue
    if (!['string', 'boolean', 'number'].includes(typeof value)) {
      throw new ConfigError(`fromUrl() option ${key} must be a string, boolean or number, got ${describeValue(value)}`)
    }
    options[key] = String(value)
  }
  return new Store(buildNativeStore(url, () => native.NativeStore.fromUrl(url, options)))
}
