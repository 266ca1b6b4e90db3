/**
 * Larger reads for an upload from `fs.createReadStream` left at Node's default.
 *
 * A file stream reads 64 KiB at a time unless told otherwise, one thread-pool round trip a
 * read, and on the bench's 2-core machine that reading cost more CPU than the upload itself:
 * a plain loop over a 256 MiB file took 2.5 CPU seconds a GiB at 64 KiB and 0.74 at 1 MiB.
 * The read size a `Readable` asks `_read` for is its state's `highWaterMark`, so raising it
 * before the first read changes how much each read takes and nothing else: the same fd, the
 * same `start`/`end`, the same events. A stream whose owner chose a size, or that has started
 * reading, is left as it is.
 */
import fs from 'node:fs'
import type { Readable } from 'node:stream'

/** What each read of a default file stream takes while stowage uploads it. */
const FILE_STREAM_READ_BYTES = 1024 * 1024

/** Node's default `highWaterMark` for `fs.createReadStream`. */
const NODE_FILE_STREAM_DEFAULT = 64 * 1024

/** Where a `Readable` keeps its read size (Node's `ReadableState`, the same since Node 10). */
interface ReadSizeState {
  highWaterMark?: unknown
}

/** Raise an untouched default `fs.ReadStream`'s read size to `FILE_STREAM_READ_BYTES`. */
export function widenFileStreamReads(stream: Readable): void {
  if (!(stream instanceof fs.ReadStream) || stream.bytesRead !== 0 || stream.readableLength !== 0) return
  const state = (stream as unknown as { _readableState?: ReadSizeState })._readableState
  if (state?.highWaterMark !== NODE_FILE_STREAM_DEFAULT) return
  try {
    state.highWaterMark = FILE_STREAM_READ_BYTES
  } catch {
    // A Node whose state will not take it: the stream reads as it would have.
  }
}
