// A process of the demo that dies on purpose (SIGKILL, as `kill -9` or an OOM kill would), run
// by app.ts in a child process:
//
//   node crash.js upload <database file> <storage dir>   killed after its upload, before its commit
//   node crash.js delete <database file> <storage dir>   killed after its commit, as its deletes start
import 'reflect-metadata'
import { FileObject, LocalStore, storages } from 'stowage'
import { StoredObjectDataSource, StoredObjectLedger } from 'stowage/typeorm'
import { Document } from './entities.js'

const [mode, databasePath, storageDir] = process.argv.slice(2) as [string, string, string]

const die = (): never => {
  process.kill(process.pid, 'SIGKILL')
  throw new Error('unreachable')
}

// In 'delete' mode the store kills the process the moment the first delete reaches it.
class DyingStore extends LocalStore {
  override delete(...args: Parameters<LocalStore['delete']>): ReturnType<LocalStore['delete']> {
    if (mode === 'delete') die()
    return super.delete(...args)
  }
}
storages.register('documents', new DyingStore(storageDir))

const dataSource = new StoredObjectDataSource({ type: 'sqljs', location: databasePath, autoSave: true, entities: [Document, StoredObjectLedger] })
await dataSource.initialize()

if (mode === 'upload') {
  await dataSource.transaction(async (manager) => {
    await manager.save(Object.assign(new Document(), { title: 'Interrupted upload', file: new FileObject({ filename: 'draft.txt', content: 'never committed' }) }))
    die() // the row is written and its file uploaded, but the transaction never commits
  })
} else {
  const meeting = await dataSource.getRepository(Document).findOneByOrFail({ title: 'Meeting notes' })
  await dataSource.getRepository(Document).remove(meeting) // commits, then dies deleting the file
}
