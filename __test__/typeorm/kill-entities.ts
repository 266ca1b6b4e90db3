/**
 * What kill.test.ts and its child process share: the entity the child saves, replaces and
 * removes, the DataSource options of each database, and the names of the store.
 */
import 'reflect-metadata'
import fs from 'node:fs'
import { Column, Entity, PrimaryGeneratedColumn, type DataSourceOptions } from 'typeorm'
import type { FileObject } from '../../src/index.js'
import { StoredObjectColumn, StoredObjectLedger } from '../../src/typeorm/index.js'

/** The `storages` name of the store the kill test's rows use. */
export const KILL_BACKEND = 'kill-test'

@Entity({ name: 'kill_document' })
export class KillDocument {
  @PrimaryGeneratedColumn()
  id!: number

  @Column({ type: 'varchar', length: 40 })
  title!: string

  // A derivative as cheap as one can be (the first bytes), so every main file puts two objects
  // in flight: both must be covered by the ledger, the rollbacks and the deletes.
  @StoredObjectColumn({
    backend: KILL_BACKEND,
    nullable: true,
    derivatives: { head: (source) => ({ content: source.subarray(0, 64), contentType: 'application/octet-stream' }) },
  })
  file!: FileObject | null

  @StoredObjectColumn({ backend: KILL_BACKEND, multiple: true, keyPrefix: 'attachments' })
  attachments!: FileObject[]
}

/** A seeded generator of numbers in [0, 1) (mulberry32), so a failing run can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The databases the kill test runs on. */
export type KillDatabase = 'postgres' | 'mariadb' | 'sqlite'

/** Where one database of the kill test is: a PostgreSQL schema, a MariaDB database, or a sql.js file. */
export interface KillTarget {
  kind: KillDatabase
  /** PostgreSQL or MariaDB URL (MariaDB's names its database). */
  url?: string
  /** PostgreSQL schema. */
  schema?: string
  /** sql.js database file. */
  file?: string
}

/**
 * sql.js writes its file with a plain `writeFile`, which a kill can tear; this writes a copy,
 * fsyncs it and renames it over the file, so a kill leaves the old file or the new one.
 */
function saveAtomically(file: string): (data: Uint8Array) => void {
  return (data) => {
    const temporary = `${file}.tmp`
    const fd = fs.openSync(temporary, 'w')
    try {
      fs.writeSync(fd, data)
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(temporary, file)
  }
}

/** DataSource options for `target`; `create` drops and synchronizes the schema. */
export function killDataSourceOptions(target: KillTarget, create: boolean): DataSourceOptions {
  const common = { entities: [KillDocument, StoredObjectLedger], synchronize: create, dropSchema: create, logging: false }
  switch (target.kind) {
    case 'postgres':
      return { ...common, type: 'postgres', url: target.url, schema: target.schema, poolSize: 8 }
    case 'mariadb':
      return { ...common, type: 'mariadb', url: target.url, poolSize: 8 }
    case 'sqlite': {
      const file = target.file!
      // With a location, sql.js loads the file when it exists.
      return {
        ...common,
        type: 'sqljs',
        location: file,
        autoSave: true,
        autoSaveCallback: saveAtomically(file),
      }
    }
  }
}
