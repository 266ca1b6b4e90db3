import type { ValueTransformer } from 'typeorm'
import { FileObject, type DerivativeSpecs, type FileObjectJSON } from '../file-object.js'
import type { FileConstraints } from '../file-validation.js'

/** Options of `@StoredObjectColumn`. */
export interface StoredObjectColumnOptions extends FileConstraints {
  /** Name of the store in `storages` that new files of this column go to. */
  backend: string
  /** Whether the column may be `null` (default `false`). */
  nullable?: boolean
  /** Hold a list of files (`FileObject[]`, default `[]`) instead of one. */
  multiple?: boolean
  /** A prefix for the generated keys of new files, e.g. `documents`. */
  keyPrefix?: string
  /** The column's name in the table (default: the property name). */
  name?: string
  /** A comment on the column. */
  comment?: string
  /**
   * Files to make from every new file of the column when its row is saved, by name:
   * `{ thumb: (source) => sharp(source).resize(256).webp() }`. Each is uploaded beside the
   * original (`<key>.derivatives/<name>`) within the row's lifecycle, kept in the column's JSON,
   * and loaded as `file.derivatives.<name>`. See docs/typeorm.md, "Derivatives".
   */
  derivatives?: DerivativeSpecs
}

/**
 * Converts between `FileObject`s and the JSON kept in the column. Synchronous and free of I/O,
 * as TypeORM requires; uploads and deletes are the subscriber's job.
 */
export class StoredObjectTransformer implements ValueTransformer {
  /** The options the column was declared with. */
  readonly options: Readonly<StoredObjectColumnOptions>

  constructor(options: StoredObjectColumnOptions) {
    this.options = Object.freeze({ ...options })
  }

  /** Entity value to column value: fresh JSON each call, so edits are never hidden by a shared object. */
  to(value: unknown): unknown {
    if (value === null || value === undefined) return value
    if (FileObject.isFileObject(value)) return value.toJSON()
    if (Array.isArray(value)) return (value as unknown[]).map((item) => (FileObject.isFileObject(item) ? item.toJSON() : item))
    return value
  }

  /** Column value to entity value: `FileObject`s with no pending content. */
  from(value: unknown): FileObject | FileObject[] | null {
    const parsed = typeof value === 'string' ? (JSON.parse(value) as unknown) : value
    if (parsed === null || parsed === undefined) return this.options.multiple && !this.options.nullable ? [] : null
    if (Array.isArray(parsed)) return parsed.map((item) => FileObject.fromJSON(item as FileObjectJSON))
    const file = FileObject.fromJSON(parsed as FileObjectJSON)
    return this.options.multiple ? [file] : file
  }
}

