/** Limits a `FileObject` must meet before it is uploaded. */
export interface FileConstraints {
  /** Largest accepted size in bytes. */
  maxSize?: number
  /**
   * Accepted content types; `image/*` accepts every image type. Both the declared type and the
   * format the first bytes show are checked (see docs/typeorm.md, "Validation").
   */
  allowedContentTypes?: readonly string[]
  /** Widest accepted image, in pixels, read from the image's header (images only). */
  maxImageWidth?: number
  /** Tallest accepted image, in pixels, read from the image's header (images only). */
  maxImageHeight?: number
}

/**
 * Why a file was refused: `FILE_TOO_LARGE` (over `maxSize`), `CONTENT_TYPE_NOT_ALLOWED` (its
 * declared type, or the type its bytes show, is outside `allowedContentTypes`), `CONTENT_MISMATCH`
 * (its bytes contradict its declared type), `IMAGE_TOO_LARGE` (an image wider or taller than the
 * column's limits, or whose dimensions could not be read).
 */
export type FileValidationCode = 'FILE_TOO_LARGE' | 'CONTENT_TYPE_NOT_ALLOWED' | 'CONTENT_MISMATCH' | 'IMAGE_TOO_LARGE'

/**
 * A file refused by a column's `maxSize`, `allowedContentTypes` or image limits: thrown before
 * the file is uploaded or the row is written, or, for content only known by reading it (a stream's
 * length, the bytes' format, an image's dimensions), while it is read, which aborts the upload.
 */
export class FileValidationError extends Error {
  /** Why the file was refused. */
  readonly code: FileValidationCode
  /** The original filename of the refused file. */
  readonly filename: string | undefined

  constructor(code: FileValidationCode, message: string, filename?: string) {
    super(message)
    this.name = 'FileValidationError'
    this.code = code
    this.filename = filename
  }
}

/** The error for a file of `size` bytes over `maxSize`. */
export function fileTooLarge(filename: string | undefined, size: number, maxSize: number): FileValidationError {
  const what = filename ? `"${filename}"` : 'file'
  return new FileValidationError(
    'FILE_TOO_LARGE',
    `${what} is too large: ${size} bytes exceeds maxSize of ${maxSize} bytes`,
    filename,
  )
}

/** Whether `contentType` matches one of `allowed` (`type/*` wildcards, parameters ignored). */
export function isContentTypeAllowed(contentType: string | undefined, allowed: readonly string[]): boolean {
  const actual = (contentType ?? '').split(';')[0]!.trim().toLowerCase()
  return allowed.some((pattern) => {
    const wanted = pattern.split(';')[0]!.trim().toLowerCase()
    if (wanted === '*/*' || wanted === '*') return true
    if (wanted.endsWith('/*')) return actual.startsWith(wanted.slice(0, -1))
    return actual === wanted
  })
}

/** Throws a {@link FileValidationError} when a known size or the content type breaks `constraints`. */
export function checkFileConstraints(
  file: { filename?: string; contentType?: string },
  size: number | undefined,
  constraints: FileConstraints,
): void {
  const { maxSize, allowedContentTypes } = constraints
  if (maxSize !== undefined && size !== undefined && size > maxSize) {
    throw fileTooLarge(file.filename, size, maxSize)
  }
  if (allowedContentTypes !== undefined && !isContentTypeAllowed(file.contentType, allowedContentTypes)) {
    const what = file.filename ? `"${file.filename}"` : 'file'
    throw new FileValidationError(
      'CONTENT_TYPE_NOT_ALLOWED',
      `${what} has content type "${file.contentType ?? 'unknown'}", which is not allowed (allowed: ${allowedContentTypes.join(', ')})`,
      file.filename,
    )
  }
}
