/** An image's width and height, read from its header bytes by the `image-size` package. */
import { imageSize } from 'image-size'

/** Width and height in pixels, as displayed (an EXIF orientation that turns the image applied). */
export interface ImageDimensions {
  width: number
  height: number
}

/**
 * The dimensions of the image whose first bytes are `head`, read from its header without
 * decoding it (the largest image of a multi-image file such as an ICO), or `undefined` when
 * `image-size` cannot read them from these bytes: a header cut short, or a format it does not
 * know.
 */
export function readImageDimensions(head: Uint8Array): ImageDimensions | undefined {
  let size: ReturnType<typeof imageSize>
  try {
    size = imageSize(head)
  } catch {
    // image-size throws on a truncated header and on unknown formats alike: more bytes may help
    // the first, and the caller decides how long to keep trying.
    return undefined
  }
  const { width, height, orientation } = size
  if (!Number.isFinite(width) || !Number.isFinite(height)) return undefined
  // EXIF orientations 5 to 8 turn the image by a quarter: its displayed width is the stored height.
  return orientation !== undefined && orientation >= 5 ? { width: height, height: width } : { width, height }
}
