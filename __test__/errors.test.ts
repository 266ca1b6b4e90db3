import { describe, expect, it } from 'vitest'
import native from '../src/native.js'
import {
  AbortError, AlreadyExistsError, ConfigError, InvalidPathError, MemoryStore, NotFoundError, NotModifiedError,
  NotSupportedError, PermissionDeniedError, PreconditionError, StorageError, UnauthenticatedError, storageError,
} from '../src/index.js'
import { fromNative } from '../src/errors.js'

describe('errors', () => {
  it('every code has its class, and every class is a StorageError', () => {
    const table = {
      NOT_FOUND: NotFoundError, ALREADY_EXISTS: AlreadyExistsError, PRECONDITION_FAILED: PreconditionError,
      NOT_MODIFIED: NotModifiedError, PERMISSION_DENIED: PermissionDeniedError, UNAUTHENTICATED: UnauthenticatedError,
      INVALID_PATH: InvalidPathError, NOT_SUPPORTED: NotSupportedError, INVALID_CONFIG: ConfigError, ABORTED: AbortError,
    } as const
    for (const [code, cls] of Object.entries(table)) {
      const err = storageError(code as keyof typeof table, 'm', { path: 'p' })
      expect(err).toBeInstanceOf(cls)
      expect(err).toBeInstanceOf(StorageError)
      expect(err.code).toBe(code)
      expect(err.path).toBe('p')
      expect(err.name).toBe(cls.name)
    }
    expect(storageError('GENERIC', 'm').constructor).toBe(StorageError)
  })

  it('keeps the native cause and the path', async () => {
    const err = await new MemoryStore().get('nope/missing.txt').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NotFoundError)
    expect((err as StorageError).path).toBe('nope/missing.txt')
    expect((err as StorageError).cause).toBeInstanceOf(Error)
    expect((err as Error).message).toContain('nope/missing.txt')
  })

  it('wraps a foreign error as GENERIC with its message kept', () => {
    const err = fromNative(new TypeError('weird'), 'k')
    expect(err.code).toBe('GENERIC')
    expect(err.message).toContain('weird')
  })

  it('a panic in Rust rejects with a StorageError and the process lives on', async () => {
    // A debug build's hook (the test-hooks cargo feature), left out of the generated types.
    const hooks = native.NativeStore as unknown as { __panicForTest(message: string): Promise<void> }
    const err = await hooks.__panicForTest('deliberate test panic').catch((e: unknown) => fromNative(e))
    expect(err).toBeInstanceOf(StorageError)
    expect((err as StorageError).code).toBe('GENERIC')
    expect((err as Error).message).toContain('deliberate test panic')
    const store = new MemoryStore()
    await store.put('still', 'alive')
    expect(await (await store.get('still')).text()).toBe('alive')
  })
})
