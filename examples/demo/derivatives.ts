// The demo's derivatives: files stowage makes from a file when its row is saved, stored beside it
// (`<key>.derivatives/<name>`) and kept in the column's JSON as `file.derivatives.<name>`.
import type { FileObject } from 'stowage'
import type { DerivativeOutput } from 'stowage/typeorm'

type Sharp = typeof import('sharp').default

// sharp is an optional peer dependency of stowage: with it installed the images get thumbnails,
// without it they get none (the demo says which), and everything else works the same.
let sharpLoaded: Promise<Sharp | undefined> | undefined
export function loadSharp(): Promise<Sharp | undefined> {
  sharpLoaded ??= import('sharp').then(
    (module) => module.default,
    () => undefined,
  )
  return sharpLoaded
}

/** A WebP thumbnail of at most 160x160 pixels of an image; none for other files, or without sharp. */
export async function thumbnail(source: Buffer, original: FileObject): Promise<DerivativeOutput> {
  if (!original.contentType.startsWith('image/')) return null
  const sharp = await loadSharp()
  return sharp === undefined ? null : sharp(source).resize(160, 160, { fit: 'inside' }).webp()
}

/** The first line of a text file (at most 80 characters), as text: a derivative that needs no library. */
export function excerpt(source: Buffer, original: FileObject): DerivativeOutput {
  if (!original.contentType.startsWith('text/')) return null
  const firstLine = source.toString('utf8').split('\n').find((line) => line.trim().length > 0) ?? ''
  return { content: Buffer.from(firstLine.slice(0, 80)), contentType: 'text/plain; charset=utf-8' }
}
