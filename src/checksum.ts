import { createHash, type Hash } from 'node:crypto'
import { fileTooLarge } from './file-validation.js'

/** A sha256 and byte count filled in as bytes pass through {@link hashingSource}. */
export class ChecksumTally {
  readonly #hash: Hash = createHash('sha256')
  /** Bytes seen so far. */
  size = 0
  /** Set when the bytes outgrew the limit; the uploader may wrap it, so it is kept here too. */
  refusal: Error | undefined

  /** Adds `bytes` to the digest and the count. */
  update(bytes: Uint8Array): void {
    this.#hash.update(bytes)
    this.size += bytes.byteLength
  }

  /** The digest as stored in a `FileObject`: `sha256:<hex>`. */
  digest(): string {
    return `sha256:${this.#hash.digest('hex')}`
  }
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8')
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk)
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  throw new TypeError(`FileObject content yielded a ${typeof chunk}, expected bytes`)
}

/**
 * Passes `source` through unchanged while `tally` hashes and counts it, so the checksum is known
 * when the upload ends without reading the bytes a second time. Past `maxSize` it throws, which
 * aborts the upload that is consuming it.
 */
export async function* hashingSource(
  source: AsyncIterable<unknown>,
  tally: ChecksumTally,
  limit?: { maxSize?: number; filename?: string },
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    const bytes = toBytes(chunk)
    tally.update(bytes)
    if (limit?.maxSize !== undefined && tally.size > limit.maxSize) {
      tally.refusal = fileTooLarge(limit.filename, tally.size, limit.maxSize)
      throw tally.refusal
    }
    yield bytes
  }
}
