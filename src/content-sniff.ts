/**
 * Content types told by the bytes (magic numbers), through the `file-type` package, and the rule
 * that decides whether those bytes agree with a declared type and an allowed list.
 *
 * The rule, for a declared type `D` and the first bytes of the content:
 * - `file-type` names a format `S` from the bytes: `D` agrees when it is `S`, or a type that
 *   mime-db (`mime-types`) gives `S`'s file extension (`image/vnd.microsoft.icon` for `ico`), or
 *   `application/octet-stream` (which claims nothing). Two families are looser, because
 *   `file-type` names the envelope rather than the format inside: a ZIP or OLE (CFB) container
 *   agrees with any `application/*` type (docx, xlsx, odt, epub, jar, msi, doc, xls are such
 *   containers, and telling them apart may need more than the bytes read here), and generic XML
 *   (`<?xml `) agrees with any XML type (`text/xml`, `application/xml`, `*+xml` such as
 *   `image/svg+xml`).
 * - `file-type` names no format: the bytes are not a known binary format. `D` agrees unless it
 *   is a type `file-type` recognizes by its signature (`image/png` whose bytes are not a PNG).
 *   Types without a signature — `text/plain`, `text/csv`, `application/json`, `image/svg+xml` —
 *   are so accepted by their declared type, as long as the bytes are no known binary format.
 * - With an allowed list, the type the bytes are taken to be must be in it: `S` (or a type
 *   mime-db gives its extension, or `D` when `D` agrees through a container or XML), or `D`
 *   when `file-type` names no format.
 */
import { createRequire } from 'node:module'
import type MimeTypes from 'mime-types'
import { FileValidationError, isContentTypeAllowed } from './file-validation.js'

/**
 * How many leading bytes the checks read: `file-type` detects most formats within its first
 * 4100 bytes; more lets it look inside ZIP containers (docx, xlsx, epub) past their first entry.
 */
export const SNIFF_BYTES = 16 * 1024

/** A format told by the bytes: its MIME type and usual file extension. */
export interface SniffedType {
  mime: string
  ext: string
}

type FileTypeModule = typeof import('file-type/core')

// Loaded once a check needs it. `file-type` is ESM only, so tsup bundles it (tsup.config.ts):
// in the CommonJS build this import() is a require() of that bundled chunk.
let fileTypeModule: Promise<FileTypeModule> | undefined
function loadFileType(): Promise<FileTypeModule> {
  return (fileTypeModule ??= import('file-type/core'))
}

// CommonJS, loaded at run time (see file-object.ts).
const mime = createRequire(import.meta.url)('mime-types') as typeof MimeTypes

const CONTAINERS = new Set(['application/zip', 'application/x-cfb'])
const OCTET_STREAM = 'application/octet-stream'

/** `type/subtype` in lower case, parameters dropped. */
function essence(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase()
}

function isXmlType(type: string): boolean {
  return type === 'text/xml' || type === 'application/xml' || type.endsWith('+xml')
}

/** The format `file-type` tells from `head` (the first bytes of the content), if any. */
export async function sniffFileType(head: Uint8Array): Promise<SniffedType | undefined> {
  const { fileTypeFromBuffer } = await loadFileType()
  const found = await fileTypeFromBuffer(head)
  return found === undefined ? undefined : { mime: found.mime, ext: found.ext }
}

/** The MIME type `file-type` tells from `head` (the first bytes of the content), if any. */
export async function sniffContentType(head: Uint8Array): Promise<string | undefined> {
  return (await sniffFileType(head))?.mime
}

/** Whether `file-type` recognizes `contentType` by a signature (directly or by its extensions). */
async function hasSignature(contentType: string): Promise<boolean> {
  const { supportedMimeTypes, supportedExtensions } = await loadFileType()
  if (supportedMimeTypes.has(contentType)) return true
  return (mime.extensions[contentType] ?? []).some((ext) => supportedExtensions.has(ext))
}

/** The names a sniffed format goes by: `file-type`'s and mime-db's for its extension. */
function namesOf(sniffed: SniffedType): string[] {
  const byExtension = mime.lookup(sniffed.ext)
  return byExtension && byExtension !== sniffed.mime ? [sniffed.mime, byExtension] : [sniffed.mime]
}

/** How a declared type relates to the bytes' format (see the module's rule). */
function agreement(declared: string, sniffed: SniffedType): 'same' | 'envelope' | 'silent' | 'contradicts' {
  if (namesOf(sniffed).includes(declared)) return 'same'
  if ((mime.extensions[declared] ?? []).includes(sniffed.ext)) return 'same'
  if (declared === OCTET_STREAM) return 'silent'
  if (CONTAINERS.has(sniffed.mime) && declared.startsWith('application/')) return 'envelope'
  if (sniffed.mime === 'application/xml' && isXmlType(declared)) return 'envelope'
  return 'contradicts'
}

/** What {@link checkContentType} found. */
export interface ContentTypeCheck {
  /** The format the bytes show, when `file-type` knows it. */
  sniffed: SniffedType | undefined
  /** The types the content is taken to be: checked against the allowed list, first is the main one. */
  contentTypes: string[]
}

/** Options of {@link checkContentType}. */
export interface ContentTypeCheckOptions {
  /** The declared type (the `FileObject`'s `contentType`, from the upload or the filename). */
  contentType: string | undefined
  /** When given, what the bytes show must be in it (`image/*` wildcards). */
  allowedContentTypes?: readonly string[]
  /** The original filename, for the error. */
  filename?: string
}

/**
 * Checks the first bytes of a content (at least {@link SNIFF_BYTES} of them, or the whole content
 * when shorter) against its declared type and an allowed list, by the rule described at the top
 * of this module. Throws a `FileValidationError`: `CONTENT_MISMATCH` when the bytes contradict
 * the declared type, `CONTENT_TYPE_NOT_ALLOWED` when what they show is outside the allowed list.
 */
export async function checkContentType(head: Uint8Array, options: ContentTypeCheckOptions): Promise<ContentTypeCheck> {
  const { allowedContentTypes, filename } = options
  const declared = essence(options.contentType) || OCTET_STREAM
  const sniffed = await sniffFileType(head)
  const what = filename ? `"${filename}"` : 'file'
  let contentTypes: string[]
  if (sniffed === undefined) {
    if (declared !== OCTET_STREAM && (await hasSignature(declared))) {
      throw new FileValidationError(
        'CONTENT_MISMATCH',
        `${what} is declared as "${declared}", but its bytes are not of that format`,
        filename,
      )
    }
    contentTypes = [declared]
  } else {
    const relation = agreement(declared, sniffed)
    if (relation === 'contradicts') {
      throw new FileValidationError(
        'CONTENT_MISMATCH',
        `${what} is declared as "${declared}", but its bytes are ${sniffed.mime} (${sniffed.ext})`,
        filename,
      )
    }
    contentTypes = relation === 'envelope' ? [declared, ...namesOf(sniffed)] : namesOf(sniffed)
    if (relation === 'same' && !contentTypes.includes(declared)) contentTypes.push(declared)
  }
  if (allowedContentTypes !== undefined && !contentTypes.some((type) => isContentTypeAllowed(type, allowedContentTypes))) {
    throw new FileValidationError(
      'CONTENT_TYPE_NOT_ALLOWED',
      `${what}'s bytes are ${contentTypes[0]}, which is not allowed (allowed: ${allowedContentTypes.join(', ')})`,
      filename,
    )
  }
  return { sniffed, contentTypes }
}
