/**
 * Saving one file of a multipart request as it arrives: the part's stream goes straight into the
 * store (in parts, never to disk, never whole in memory), its limits are checked on the way, and
 * a refused part leaves nothing behind. multer's storage engine, `saveMultipartFile` and the
 * direct-upload route all save through here.
 */
import type { Readable } from 'node:stream'
import { SNIFF_BYTES, checkContentType } from '../content-sniff.js'
import { FileObject } from '../file-object.js'
import { FileValidationError, fileTooLarge } from '../file-validation.js'

/** One file part of a multipart body, as busboy hands it over. */
export interface IncomingFilePart {
  /** The part's bytes (busboy's file stream: `truncated` once its `fileSize` limit was hit). */
  stream: Readable & { truncated?: boolean }
  /** The filename the browser sent. */
  filename: string
  /** The type the browser declared for the part. */
  contentType: string
}

/** Where and how to save it. */
export interface StreamSaveOptions {
  /** The registered store's name. */
  backend: string
  /** The key; defaults to `<keyPrefix>/<uuid>/<sanitized filename>`. */
  key?: string
  /** A prefix for the default key. */
  keyPrefix?: string
  /** Refuse (and abort) a part larger than this many bytes. */
  maxSize?: number
  /** The type to store, in place of the part's declared one. */
  contentType?: string
  /** Check the first bytes against the type before any is stored (`CONTENT_MISMATCH`). */
  checkContent?: boolean
}

/**
 * The part's bytes, passed through while they are counted: past `maxSize`, or once busboy
 * truncated the part at its own limit, it throws, which aborts the upload consuming it. With
 * `checkContent`, the first bytes are held until they are checked. Whatever happens, the rest of
 * the part is read and discarded (never destroyed), so the parser goes on and the request is
 * read to its end: a keep-alive connection stays usable.
 */
async function* guardedBytes(
  part: IncomingFilePart,
  contentType: () => string,
  options: StreamSaveOptions,
  refuse: (error: FileValidationError) => FileValidationError,
): AsyncGenerator<Uint8Array> {
  const { stream, filename } = part
  const { maxSize } = options
  let seen = 0
  let held: Buffer[] | undefined = options.checkContent ? [] : undefined
  let heldBytes = 0
  const tooLarge = () => refuse(maxSize === undefined
    ? new FileValidationError('FILE_TOO_LARGE', `"${filename}" is larger than the upload limit`, filename)
    : fileTooLarge(filename, seen, maxSize))
  const release = async (complete: boolean): Promise<Buffer[]> => {
    const head = Buffer.concat(held!)
    held = undefined
    try {
      await checkContentType(complete ? head : head.subarray(0, SNIFF_BYTES), { contentType: contentType(), filename })
    } catch (error) {
      throw error instanceof FileValidationError ? refuse(error) : error
    }
    return [head]
  }
  try {
    for await (const chunk of stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      seen += chunk.byteLength
      if ((maxSize !== undefined && seen > maxSize) || stream.truncated === true) throw tooLarge()
      if (held === undefined) {
        yield chunk
        continue
      }
      held.push(chunk)
      heldBytes += chunk.byteLength
      if (heldBytes >= SNIFF_BYTES) yield* await release(false)
    }
    // busboy marks a part truncated before it ends it.
    if (stream.truncated === true) throw tooLarge()
    if (held !== undefined) yield* await release(true)
  } finally {
    stream.resume()
  }
}

/**
 * Saves `part` as a new `FileObject` in `options.backend`, streamed; returns it saved (key,
 * size, sha256 checksum, etag, content type). A part over `maxSize` (or truncated by the
 * parser's own limit) is refused with `FILE_TOO_LARGE` and its upload aborted: no object stays.
 */
export async function saveFilePart(part: IncomingFilePart, options: StreamSaveOptions): Promise<FileObject> {
  let refusal: FileValidationError | undefined
  const refuse = (error: FileValidationError) => (refusal = error)
  // An empty declared type (a part without Content-Type) is guessed from the filename.
  const declared = options.contentType ?? (part.contentType === '' ? undefined : part.contentType)
  const file: FileObject = new FileObject({
    backend: options.backend,
    filename: part.filename,
    ...(declared === undefined ? {} : { contentType: declared }),
    ...(options.key === undefined ? {} : { key: options.key }),
    ...(options.keyPrefix === undefined ? {} : { keyPrefix: options.keyPrefix }),
    // The generator runs once save() reads it, when `file` holds the type (given or guessed).
    content: guardedBytes(part, (): string => file.contentType, options, refuse),
  })
  try {
    await file.save()
  } catch (error) {
    // The uploader may wrap what the source threw; the refusal is what the caller must see.
    throw refusal ?? error
  }
  return file
}
