import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm'
import type { FileObject } from 'stowage'
import { StoredObjectColumn } from 'stowage/typeorm'

/** The registered store the documents' files live in (`startApp` registers it under this name). */
export const DOCUMENTS_BACKEND = 'documents'

/** Largest file the app accepts, through the server or directly to the store. */
export const MAX_FILE_SIZE = 1024 * 1024

/**
 * What the app accepts, checked against the declared type and the first bytes: while a file
 * streams through the server, and on confirm for a direct upload.
 */
export const ALLOWED_CONTENT_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf']

/** A document row: its title in a column, its file in object storage. */
@Entity({ name: 'document' })
export class Document {
  @PrimaryGeneratedColumn()
  id!: number

  @Column({ type: 'varchar', length: 200 })
  title!: string

  // The file's metadata (key, original filename, size, type, checksum) as JSON; its bytes in the
  // store. Replacing it deletes the old object once the row's change commits; so does remove().
  @StoredObjectColumn({
    backend: DOCUMENTS_BACKEND,
    keyPrefix: 'documents',
    maxSize: MAX_FILE_SIZE,
    allowedContentTypes: ALLOWED_CONTENT_TYPES,
  })
  file!: FileObject

  @CreateDateColumn()
  createdAt!: Date

  @UpdateDateColumn()
  updatedAt!: Date
}
