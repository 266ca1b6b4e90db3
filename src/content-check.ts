/**
 * The checks of a file's content against its column's constraints, made on its first bytes while
 * they are read: the bytes' format against the declared type and `allowedContentTypes`
 * (content-sniff.ts), and an image's dimensions against `maxImageWidth`/`maxImageHeight`.
 */
import { SNIFF_BYTES, checkContentType, type SniffedType } from './content-sniff.js'
import { FileValidationError, type FileConstraints } from './file-validation.js'
import { readImageDimensions } from './image-limits.js'

/**
 * How far into the content an image's dimensions are looked for. A JPEG's frame header may come
 * after large EXIF or ICC segments; past this the image is refused rather than read further.
 */
export const IMAGE_HEADER_BYTES = 1024 * 1024

/** Whether `constraints` ask for checks of the bytes themselves. */
export function checksContent(constraints: FileConstraints): boolean {
  return (
    constraints.allowedContentTypes !== undefined ||
    constraints.maxImageWidth !== undefined ||
    constraints.maxImageHeight !== undefined
  )
}

/** The file being checked: its declared type and its name (for the errors). */
export interface CheckedFile {
  contentType: string | undefined
  filename?: string
}

/**
 * Checks a content's first bytes as they arrive. {@link ContentInspector.inspect} is given the
 * bytes read so far (growing) and whether they are the whole content; it answers whether it has
 * seen enough, or throws the `FileValidationError` that refuses the file.
 */
export class ContentInspector {
  readonly #file: CheckedFile
  readonly #constraints: FileConstraints
  #sniffed: { sniffed: SniffedType | undefined } | undefined
  /** The refusal, once thrown: an uploader consuming the bytes may wrap it, so it is kept here too. */
  refusal: FileValidationError | undefined

  constructor(file: CheckedFile, constraints: FileConstraints) {
    this.#file = file
    this.#constraints = constraints
  }

  /** How many leading bytes it wants before its first look (fewer when the content is shorter). */
  get wants(): number {
    return SNIFF_BYTES
  }

  /** `true` once the checks passed; `false` while it needs more bytes; throws to refuse. */
  async inspect(head: Uint8Array, complete: boolean): Promise<boolean> {
    try {
      return await this.#inspect(head, complete)
    } catch (error) {
      if (error instanceof FileValidationError) this.refusal = error
      throw error
    }
  }

  async #inspect(head: Uint8Array, complete: boolean): Promise<boolean> {
    if (!complete && head.byteLength < SNIFF_BYTES) return false
    const { allowedContentTypes, maxImageWidth, maxImageHeight } = this.#constraints
    this.#sniffed ??= await checkContentType(head, { ...this.#file, allowedContentTypes })
    if (maxImageWidth === undefined && maxImageHeight === undefined) return true
    const { sniffed } = this.#sniffed
    const type = sniffed?.mime ?? (this.#file.contentType ?? '').toLowerCase()
    if (!type.startsWith('image/')) return true

    const dimensions = readImageDimensions(head)
    const what = this.#file.filename ? `"${this.#file.filename}"` : 'image'
    if (dimensions === undefined) {
      if (!complete && head.byteLength < IMAGE_HEADER_BYTES) return false
      // Limits that cannot be checked are not met: an unreadable header could hide any size.
      throw new FileValidationError(
        'IMAGE_TOO_LARGE',
        `${what}: the dimensions of this ${type} could not be read from its first ${Math.min(head.byteLength, IMAGE_HEADER_BYTES)} bytes, so its size limits cannot be checked`,
        this.#file.filename,
      )
    }
    const { width, height } = dimensions
    if ((maxImageWidth !== undefined && width > maxImageWidth) || (maxImageHeight !== undefined && height > maxImageHeight)) {
      const limits = `${maxImageWidth ?? 'any'}x${maxImageHeight ?? 'any'}`
      throw new FileValidationError(
        'IMAGE_TOO_LARGE',
        `${what} is ${width}x${height} pixels, over the limit of ${limits} (width x height)`,
        this.#file.filename,
      )
    }
    return true
  }
}

/**
 * Passes `source` through once `inspector` has passed its first bytes: they are held back (never
 * more than the inspector asks for, see {@link IMAGE_HEADER_BYTES}) until it has, and a refusal
 * throws before the consumer — the upload — has received any of them.
 */
export async function* inspectedSource(source: AsyncIterable<Uint8Array>, inspector: ContentInspector): AsyncGenerator<Uint8Array> {
  const held: Uint8Array[] = []
  let heldBytes = 0
  let passed = false
  // Each look joins the held chunks: looking again only once they doubled keeps that linear
  // however small the chunks are.
  let nextLook = inspector.wants
  for await (const chunk of source) {
    if (passed) {
      yield chunk
      continue
    }
    held.push(chunk)
    heldBytes += chunk.byteLength
    if (heldBytes < nextLook) continue
    nextLook = Math.min(heldBytes * 2, IMAGE_HEADER_BYTES)
    passed = await inspector.inspect(Buffer.concat(held, heldBytes), false)
    if (passed) {
      yield* held
      held.length = 0
    }
  }
  if (!passed) {
    await inspector.inspect(Buffer.concat(held, heldBytes), true)
    yield* held
  }
}
