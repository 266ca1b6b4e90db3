/**
 * Checks of the arguments JavaScript callers pass, made before anything crosses into Rust.
 *
 * Two things can only be caught on this side of the boundary: a value that is not a string
 * at all (a Symbol, whose string conversion throws, or a number that napi-rs would reject
 * with a bare `TypeError`), and a string with a lone UTF-16 surrogate, which the conversion
 * to Rust's UTF-8 silently replaces with U+FFFD — the key stored would not be the key given.
 * Everything else about keys (empty segments, `..`, control characters) is Rust's to check.
 */
import { ConfigError, InvalidPathError } from './errors.js'
import { printable } from './printable.js'

/** A key as given, checked to be a well-formed string; `INVALID_PATH` otherwise. */
export function checkKey(key: unknown, role = 'key'): string {
  if (typeof key !== 'string') {
    throw new InvalidPathError(`a ${role} must be a string, got ${describeValue(key)}`, { path: printable(key) })
  }
  if (!key.isWellFormed()) {
    throw new InvalidPathError(
      `a ${role} cannot contain a lone UTF-16 surrogate (it would be stored as U+FFFD): ${JSON.stringify(key)}`,
      { path: key.toWellFormed() },
    )
  }
  return key
}

/** A listing prefix: `undefined`, `null` and `''` mean every key. */
export function checkPrefix(prefix: unknown): string | undefined {
  if (prefix === undefined || prefix === null || prefix === '') return undefined
  return checkKey(prefix, 'prefix')
}

/**
 * An options argument: `undefined` and `null` both mean "no options" (`{}`); anything else
 * must be a plain object (not an array, a function or a primitive).
 */
export function checkOptions<T extends object>(options: unknown, what: string): Partial<T> {
  if (options === undefined || options === null) return {}
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new ConfigError(`${what} must be an object, got ${describeValue(options)}`)
  }
  return options
}

/** An optional `AbortSignal`; anything else is `INVALID_CONFIG`. */
export function checkSignal(signal: unknown): AbortSignal | undefined {
  if (signal === undefined || signal === null) return undefined
  if (!(signal instanceof AbortSignal)) {
    throw new ConfigError(`signal must be an AbortSignal, got ${describeValue(signal)}`)
  }
  return signal
}

/** A string option (attributes, etags, versions): a well-formed string or absent. */
export function checkText(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw new ConfigError(`${name} must be a string, got ${describeValue(value)}`)
  if (!value.isWellFormed()) throw new ConfigError(`${name} cannot contain a lone UTF-16 surrogate`)
  return value
}

/** User metadata: an object whose values are all well-formed strings. */
export function checkMetadata(metadata: unknown): Record<string, string> | undefined {
  if (metadata === undefined || metadata === null) return undefined
  if (typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new ConfigError(`metadata must be an object of strings, got ${describeValue(metadata)}`)
  }
  for (const [name, value] of Object.entries(metadata)) {
    if (!name.isWellFormed()) throw new ConfigError('a metadata name cannot contain a lone UTF-16 surrogate')
    checkText(value, `metadata[${JSON.stringify(name)}]`)
  }
  return metadata as Record<string, string>
}

/** A whole number of bytes, or a `ConfigError` naming the option. */
export function checkByteCount(value: unknown, name: string, { optional = false } = {}): number | undefined {
  if (value === undefined && optional) return undefined
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ConfigError(`${name} must be a whole number of bytes, got ${describeValue(value)}`)
  }
  return value
}

/**
 * Size and type limits of an upload (`maxSize`, `allowedContentTypes`), checked when they are
 * given rather than when a file first meets them; `INVALID_CONFIG` naming `what` otherwise.
 */
export function checkUploadLimits(
  options: { maxSize?: unknown; allowedContentTypes?: unknown },
  what: string,
): { maxSize?: number; allowedContentTypes?: readonly string[] } {
  const maxSize = checkByteCount(options.maxSize, `${what}: maxSize`, { optional: true })
  const allowed = options.allowedContentTypes
  if (allowed !== undefined && (!Array.isArray(allowed) || !allowed.every((type) => typeof type === 'string' && type !== ''))) {
    throw new ConfigError(`${what}: allowedContentTypes must be an array of content types (e.g. ['image/*']), got ${describeValue(allowed)}`)
  }
  return {
    ...(maxSize === undefined ? {} : { maxSize }),
    ...(allowed === undefined ? {} : { allowedContentTypes: allowed as readonly string[] }),
  }
}

/** A short, safe description of any value for an error message (never throws). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  switch (typeof value) {
    case 'string': return `the string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)}`
    case 'symbol': return 'a symbol'
    case 'function': return 'a function'
    case 'object': return 'an object'
    case 'undefined': return 'undefined'
    case 'bigint': return `the bigint ${value}n`
    // a number or a boolean: what typeof leaves (TypeScript narrows `unknown` to `{}` here)
    default: return `the ${typeof value} ${value as number | boolean}`
  }
}
