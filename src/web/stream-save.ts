/**
 * Saving one file of a multipart request as it arrives: the part's stream goes straight into the
 * store (in parts, never to disk, never whole in memory) through `FileObject.save`, which checks
 * the limits on the way, and a refused part leaves nothing behind. multer's storage engine,
 * `saveMultipartFile` and the direct-upload route all save through here.
 */
import type { Readable } from 'node:stream'
import { FileObject } from '../file-object.js'
import { FileValidationError, checkFileConstraints } from '../file-validation.js'

/** One file part of a multipart body, as busboy hands it over. */
export interface IncomingFilePart {
  /** The part's bytes (busboy's file stream: `truncated` once its `fileSize` limit was hit). */
  stream: Readable & { truncated?: boolean }
  /** The filename the browser sent. */
  filename: string
  /** The type the browser declared for the part. */
  contentType: string
}

/** The limits a part is saved under: those of `multerStorage` and `saveMultipartFile`. */
export interface FilePartLimits {
  /** Refuse (and abort) a part larger than this many bytes: `FILE_TOO_LARGE`. */
  maxSize?: number
  /**
   * Accepted content types (`image/*` wildcards). The declared type is checked before any byte
   * is read, and the first bytes (their magic numbers, through `file-type`) before any is stored:
   * `CONTENT_TYPE_NOT_ALLOWED` when either is outside the list, `CONTENT_MISMATCH` when the bytes
   * contradict the declared type (an executable sent as `image/png`).
   */
  allowedContentTypes?: readonly string[]
}

/** Where and how to save it. */
export interface StreamSaveOptions extends FilePartLimits {
  /** The registered store's name. */
  backend: string
  /** The key; defaults to `<keyPrefix>/<uuid>/<sanitized filename>`. */
  key?: string
  /** A prefix for the default key. */
  keyPrefix?: string
  /** The type to store, in place of the part's declared one. */
  contentType?: string
  /**
   * Check the first bytes against the declared type even without `allowedContentTypes`
   * (`CONTENT_MISMATCH`), as the direct-upload route does for the type its token names.
   */
  checkContent?: boolean
}

/**
 * Every type is allowed: what the first-bytes check is given when only the agreement of the
 * bytes with the declared type matters (`checkContent` without `allowedContentTypes`).
 */
const ANY_TYPE = ['*/*'] as const

/**
 * The part's bytes. Once busboy truncated the part at its own `fileSize` limit it throws, which
 * aborts the upload consuming it. A part left unread is never destroyed (the parser would stop):
 * `saveFilePart` reads the rest of it once the save has settled.
 */
async function* partBytes(part: IncomingFilePart, refuse: (error: FileValidationError) => FileValidationError): AsyncGenerator<Uint8Array> {
  const { stream, filename } = part
  const truncated = () => refuse(new FileValidationError('FILE_TOO_LARGE', `"${filename}" is larger than the upload limit`, filename))
  for await (const chunk of stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    if (stream.truncated === true) throw truncated()
    yield chunk
  }
  // busboy marks a part truncated before it ends it.
  if (stream.truncated === true) throw truncated()
}

/**
 * Saves `part` as a new `FileObject` in `options.backend`, streamed; returns it saved (key,
 * size, sha256 checksum, etag, content type). A part over `maxSize` (or truncated by the
 * parser's own limit) is refused with `FILE_TOO_LARGE`, one whose declared type or first bytes
 * break `allowedContentTypes` with `CONTENT_TYPE_NOT_ALLOWED` or `CONTENT_MISMATCH`: its upload is
 * aborted (the first bytes are checked before the store receives any), so no object stays.
 */
export async function saveFilePart(part: IncomingFilePart, options: StreamSaveOptions): Promise<FileObject> {
  let refusal: FileValidationError | undefined
  const refuse = (error: FileValidationError) => (refusal = error)
  // An empty declared type (a part without Content-Type) is guessed from the filename.
  const declared = options.contentType ?? (part.contentType === '' ? undefined : part.contentType)
  const file = new FileObject({
    backend: options.backend,
    filename: part.filename,
    ...(declared === undefined ? {} : { contentType: declared }),
    ...(options.key === undefined ? {} : { key: options.key }),
    ...(options.keyPrefix === undefined ? {} : { keyPrefix: options.keyPrefix }),
    content: partBytes(part, refuse),
  })
  const { maxSize, allowedContentTypes } = options
  try {
    // The declared type (given or guessed) is refused before any byte is read, as a column does.
    checkFileConstraints(file, undefined, { allowedContentTypes })
    await file.save({ maxSize, allowedContentTypes: allowedContentTypes ?? (options.checkContent ? ANY_TYPE : undefined) })
  } catch (error) {
    // The uploader may wrap what the source threw; the refusal is what the caller must see.
    throw refusal ?? error
  } finally {
    // The rest of a refused part is read and discarded, so the parser goes on and the request is
    // read to its end (a keep-alive connection stays usable) — but only now: while the refused
    // upload was being aborted the part stayed paused, so a parser's own limit (multer's
    // LIMIT_FILE_SIZE) could not be reached first and hide why the part was refused.
    part.stream.resume()
  }
  return file
}
