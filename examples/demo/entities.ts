import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm'
import type { FileObject } from 'stowage'
import { StoredObjectColumn } from 'stowage/typeorm'
import { excerpt, thumbnail } from './derivatives.js'

/** A document row: its title in a column, its files in object storage. */
@Entity({ name: 'document' })
export class Document {
  @PrimaryGeneratedColumn()
  id!: number

  @Column({ type: 'varchar', length: 200 })
  title!: string

  // The main file: at most 100 MiB; a text file gets an excerpt (its first line) beside it.
  @StoredObjectColumn({ backend: 'documents', nullable: true, keyPrefix: 'files', maxSize: 100 * 1024 * 1024, derivatives: { excerpt } })
  file!: FileObject | null

  // Any number of attachments, images and PDFs only; an image gets a thumbnail (with sharp).
  @StoredObjectColumn({
    backend: 'documents',
    multiple: true,
    keyPrefix: 'attachments',
    allowedContentTypes: ['image/*', 'application/pdf'],
    derivatives: { thumb: thumbnail },
  })
  attachments!: FileObject[]

  @CreateDateColumn()
  createdAt!: Date
}
