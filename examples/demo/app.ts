import 'reflect-metadata'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { once } from 'node:events'
import cliProgress from 'cli-progress'
import { FileObject, LocalStore, storages } from 'stowage'
import { StoredObjectDataSource, StoredObjectLedger, reapLedger, sweepOrphans } from 'stowage/typeorm'
import { loadSharp } from './derivatives.js'
import { Document } from './entities.js'

// A 640x320 bar chart, blue on white: a real PNG (two-colour palette) for the attachments column,
// whose bytes are checked against image/*, and of which sharp (when installed) makes a thumbnail.
const CHART_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAoAAAAFAAQMAAAAWA19JAAAABlBMVEX///8rbLBj8+1YAAAACXBIWXMAAAsSAAALEgHS3X78AAAAfUlEQVR42u3MMQ4AIAgEQX7u07W1JJHG3GxJuKmSJEmS5lr7DggEAoFAIBAIBAKBQCAQCAQCgUAgEAgEAoFpYPcRCAQCgUAgEAgEAoHAdLB7AwKBQCAQCAT+Db6MgUAgEAgEAoFAIBAIBAKBQCAQCAQCgUAgEAgEAoHAJPAAdsup+zzONucAAAAASUVORK5CYII='

const MiB = 1024 * 1024
const BIG_FILE_SIZE = 48 * MiB

function formatBytes(bytes: number): string {
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(1)} MiB`
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${bytes} B`
}

function step(title: string): void {
  console.log(`\n== ${title}`)
}

function table(rows: Array<Record<string, string | number>>): void {
  if (rows.length === 0) {
    console.log('   (none)')
    return
  }
  const columns = Object.keys(rows[0]!)
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)))
  const line = (cells: string[]) => '   ' + cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')
  console.log(line(columns))
  console.log(line(widths.map((w) => '-'.repeat(w))))
  for (const row of rows) console.log(line(columns.map((c) => String(row[c]))))
}

/** A large file on disk with deterministic content, written in 1 MiB chunks. */
async function writeBigFile(path: string, size: number): Promise<void> {
  const out = createWriteStream(path)
  let seed = createHash('sha256').update('stowage demo').digest()
  for (let written = 0; written < size; ) {
    const chunk = Buffer.alloc(Math.min(MiB, size - written))
    for (let offset = 0; offset < chunk.length; offset += seed.length) {
      seed.copy(chunk, offset)
      seed = createHash('sha256').update(seed).digest()
    }
    if (!out.write(chunk)) await once(out, 'drain')
    written += chunk.length
  }
  out.end()
  await once(out, 'finish')
}

function progressBar(label: string): { onProgress: (p: { loaded: number; total?: number }) => void; stop: () => void } {
  if (!process.stdout.isTTY) {
    let last = 0
    return {
      onProgress: ({ loaded, total }) => {
        if (loaded - last >= 16 * MiB || loaded === total) {
          last = loaded
          console.log(`   ${label}: ${formatBytes(loaded)}${total ? ` / ${formatBytes(total)}` : ''}`)
        }
      },
      stop: () => {},
    }
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `   ${label} [{bar}] {percentage}% | {done} / {size} | {speed}`,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  )
  const started = Date.now()
  let begun = false
  return {
    onProgress: ({ loaded, total }) => {
      const size = total ?? BIG_FILE_SIZE
      if (!begun) {
        bar.start(size, 0, { done: '0 B', size: formatBytes(size), speed: '' })
        begun = true
      }
      const seconds = Math.max((Date.now() - started) / 1000, 0.001)
      bar.update(loaded, { done: formatBytes(loaded), speed: `${formatBytes(loaded / seconds)}/s` })
    },
    stop: () => {
      if (begun) bar.stop()
    },
  }
}

/** The keys the rows reference: every file's own and its derivatives'. */
function referencedKeys(documents: Document[]): Set<string> {
  const files = documents.flatMap((d) => [d.file, ...d.attachments]).filter((f): f is FileObject => f != null)
  return new Set(files.flatMap((f) => [f.key, ...Object.values(f.derivatives).map((derivative) => derivative.key)]))
}

async function listStorage(): Promise<Array<{ path: string; size: number }>> {
  const objects: Array<{ path: string; size: number }> = []
  for await (const meta of storages.get('documents').list()) objects.push({ path: meta.path, size: meta.size })
  return objects.sort((a, b) => a.path.localeCompare(b.path))
}

/** Runs the demo in `<root>/.stowage-demo`, starting from an empty database and store each time. */
export async function main(root: string): Promise<void> {
  const started = Date.now()
  const home = join(root, '.stowage-demo')
  const storageDir = join(home, 'storage')
  const inbox = join(home, 'inbox')
  const databasePath = join(home, 'demo.sqlite')

  step(`Setting up in ${home}`)
  await rm(storageDir, { recursive: true, force: true })
  await rm(inbox, { recursive: true, force: true })
  await rm(databasePath, { force: true })
  await mkdir(inbox, { recursive: true })
  storages.register('documents', new LocalStore(storageDir, { mkdir: true }), { replace: true })
  // In place of TypeORM's DataSource: it gives the stored-object columns their type (json here,
  // jsonb on PostgreSQL) and registers the StoredObjectSubscriber that uploads and deletes.
  // StoredObjectLedger records every object in flight, so reapLedger can finish what a killed
  // process left (on sql.js, uploads are journaled beside the database file).
  const open = () =>
    new StoredObjectDataSource({
      type: 'sqljs',
      location: databasePath,
      autoSave: true,
      entities: [Document, StoredObjectLedger],
      synchronize: true,
    }).initialize()
  let dataSource = await open()
  let documents = dataSource.getRepository(Document)
  console.log(`   SQLite database ${databasePath} (sql.js), LocalStore "documents" at ${storageDir}`)

  step('Saving documents with their files')
  const report = await documents.save(
    Object.assign(new Document(), {
      title: 'Quarterly report',
      file: new FileObject({ filename: 'Q3 report.pdf', content: Buffer.from('%PDF-1.7\n% quarterly numbers\n%%EOF\n') }),
      // A real PNG: the attachments column checks the bytes against image/* and application/pdf,
      // and makes a thumbnail of it (with sharp).
      attachments: [new FileObject({ filename: 'chart.png', content: Buffer.from(CHART_PNG, 'base64') })],
    }),
  )
  const notes = await documents.save(
    Object.assign(new Document(), {
      title: 'Meeting notes',
      file: new FileObject({ filename: 'notes.md', content: '# Monday\n\n- ship the demo\n' }),
    }),
  )
  const photo = await documents.save(
    Object.assign(new Document(), {
      title: 'Team photo',
      file: new FileObject({ filename: 'team.jpg', content: Buffer.alloc(256 * 1024, 0xd8) }),
    }),
  )
  // Two files with the same name never overwrite each other: every upload gets its own key.
  const draft = await documents.save(
    Object.assign(new Document(), {
      title: 'Draft report',
      file: new FileObject({ filename: 'Q3 report.pdf', content: Buffer.from('%PDF-1.7\n% draft\n%%EOF\n') }),
    }),
  )
  console.log(`   4 small documents saved; both "Q3 report.pdf" uploads kept apart:`)
  console.log(`     ${report.file.key}\n     ${draft.file.key}`)

  const bigPath = join(inbox, 'survey-dataset.bin')
  await writeBigFile(bigPath, BIG_FILE_SIZE)
  console.log(`   uploading ${formatBytes(BIG_FILE_SIZE)} from ${bigPath}, streamed (never held in memory whole):`)
  const bar = progressBar('survey-dataset.bin')
  const uploadStarted = Date.now()
  const dataset = await documents.save(
    Object.assign(new Document(), {
      title: 'Survey dataset',
      file: new FileObject({ sourcePath: bigPath, onProgress: bar.onProgress }),
    }),
  )
  bar.stop()
  const uploadMs = Date.now() - uploadStarted
  console.log(`   done in ${uploadMs} ms; checksum computed during the upload: ${dataset.file.checksum}`)

  step('Listing documents (read back from the database)')
  const rows = await documents.find({ order: { id: 'ASC' } })
  table(
    rows.map((d) => ({
      id: d.id,
      title: d.title,
      file: d.file?.filename ?? '-',
      type: d.file?.contentType ?? '-',
      size: d.file?.size !== undefined ? formatBytes(d.file.size) : '-',
      attachments: d.attachments.length,
      derivatives: [d.file, ...d.attachments].flatMap((f) => (f === null ? [] : Object.keys(f.derivatives))).join(', ') || '-',
    })),
  )

  step('Derivatives, made from the files as they were saved and kept in the column beside them')
  const sharp = await loadSharp()
  const chart = (await documents.findOneByOrFail({ id: report.id })).attachments[0]!
  const thumb = chart.derivatives.thumb
  if (sharp === undefined) {
    console.log('   sharp is not installed (it is an optional peer of stowage): no thumbnail was made of chart.png;')
    console.log('   `npm install sharp` and run the demo again to get one. The excerpts below need no library.')
  } else if (thumb === undefined) {
    console.log('   NO THUMBNAIL of chart.png (unexpected: sharp is installed)')
    process.exitCode = 1
  } else {
    const original = await sharp(await chart.getContent()).metadata()
    const small = await sharp(await thumb.getContent()).metadata()
    console.log(`   chart.png ${original.width}x${original.height}, ${formatBytes(chart.size!)} -> thumb ${small.width}x${small.height} ${thumb.contentType}, ${formatBytes(thumb.size!)} (made with sharp)`)
    console.log(`     ${thumb.key}`)
  }
  const notesExcerpt = (await documents.findOneByOrFail({ id: notes.id })).file!.derivatives.excerpt!
  console.log(`   notes.md -> excerpt ${JSON.stringify((await notesExcerpt.getContent()).toString())} (${notesExcerpt.contentType})`)
  console.log(`     ${notesExcerpt.key}`)

  step('Reading the dataset back and checking its checksum')
  const loaded = await documents.findOneByOrFail({ id: dataset.id })
  const hash = createHash('sha256')
  let read = 0
  const readStarted = Date.now()
  for await (const chunk of loaded.file!.stream()) {
    hash.update(chunk as Buffer)
    read += (chunk as Buffer).length
  }
  const actual = `sha256:${hash.digest('hex')}`
  const matches = actual === loaded.file!.checksum && read === loaded.file!.size
  console.log(`   streamed ${formatBytes(read)} in ${Date.now() - readStarted} ms: ${actual}`)
  console.log(`   stored checksum ${loaded.file!.checksum} -> ${matches ? 'MATCH' : 'MISMATCH'}`)
  if (!matches) process.exitCode = 1

  step('Replacing the meeting notes (old object and its excerpt deleted after the commit)')
  const oldNotesKey = notes.file.key
  const oldExcerptKey = notes.file.derivatives.excerpt!.key
  await dataSource.transaction(async (manager) => {
    notes.file = new FileObject({ filename: 'notes.md', content: '# Monday\n\n- ship the demo\n- celebrate\n' })
    await manager.save(notes)
    const during = (await listStorage()).some((o) => o.path === oldNotesKey)
    console.log(`   inside the transaction, the old object is ${during ? 'still there' : 'GONE (unexpected)'}: ${oldNotesKey}`)
  })
  const after = (await listStorage()).some((o) => o.path === oldNotesKey || o.path === oldExcerptKey)
  console.log(`   after the commit it is ${after ? 'STILL THERE (unexpected)' : 'deleted, and its excerpt too'}; new object ${notes.file.key}`)
  if (after) process.exitCode = 1
  const reread = await documents.findOneByOrFail({ id: notes.id })
  console.log(`   notes now read: ${JSON.stringify((await reread.file!.getContent()).toString())}`)

  step('A transaction that fails after uploading leaves nothing behind')
  const before = (await listStorage()).length
  await dataSource
    .transaction(async (manager) => {
      await manager.save(Object.assign(new Document(), { title: 'Never saved', file: new FileObject({ filename: 'tmp.txt', content: 'x' }) }))
      throw new Error('something went wrong after the upload')
    })
    .catch((error: Error) => console.log(`   transaction failed: ${error.message}`))
  console.log(`   objects before: ${before}, after the rollback: ${(await listStorage()).length}; rows titled "Never saved": ${await documents.countBy({ title: 'Never saved' })}`)

  step('Deleting the team photo with remove()')
  const photoKey = photo.file.key
  await documents.remove(photo)
  console.log(`   row removed and object ${photoKey} ${(await listStorage()).some((o) => o.path === photoKey) ? 'STILL THERE (unexpected)' : 'deleted'}`)

  step('Bypassing the entity: Repository.delete() cannot be tracked, sweepOrphans() finds what it left')
  const draftKey = draft.file.key
  await documents.delete(draft.id)
  const dryRun = await sweepOrphans(dataSource, { backend: 'documents' })
  console.log(`   dry run: ${dryRun.scanned} objects listed, ${dryRun.referenced} referenced, ${dryRun.orphans.length} orphan(s): ${dryRun.orphans.map((o) => o.path).join(', ')}`)
  const swept = await sweepOrphans(dataSource, { backend: 'documents', dryRun: false })
  console.log(`   sweep: deleted ${swept.deleted.length} object(s), ${formatBytes(swept.orphanBytes)} freed (${swept.deleted.includes(draftKey) ? 'the draft among them' : 'draft NOT deleted'})`)

  step('A killed process: the ledger remembers what it left, reapLedger finishes it (no bucket listing)')
  // sql.js keeps the database in one process's memory: close it while the children use the file.
  await dataSource.destroy()
  const crash = join(dirname(fileURLToPath(import.meta.url)), 'crash.js')
  const meetingKey = notes.file.key
  for (const [mode, what] of [
    ['upload', 'uploads a file and writes its row, killed before the commit'],
    ['delete', 'removes "Meeting notes", commits, killed as the delete of its file starts'],
  ] as const) {
    const child = spawnSync(process.execPath, [crash, mode, databasePath, storageDir], { stdio: 'inherit' })
    console.log(`   a process that ${what}: ended by ${child.signal ?? `exit code ${child.status}`}`)
  }
  dataSource = await open()
  documents = dataSource.getRepository(Document)
  const rowKeys = referencedKeys(await documents.find())
  const strays = (await listStorage()).filter((o) => !rowKeys.has(o.path))
  console.log(`   left behind: ${strays.length} object(s) no row references, ${await dataSource.getRepository(StoredObjectLedger).count()} ledger entry(ies) in the database, the upload's entry in ${databasePath}.stowage-ledger`)
  // At startup, or every few minutes with an olderThan above your longest transaction.
  const reaped = await reapLedger(dataSource, { olderThan: 0 })
  console.log(`   reapLedger: deleted ${reaped.deletedUploads.length} upload(s) whose transaction never committed: ${reaped.deletedUploads.map((o) => o.key).join(', ')}`)
  console.log(`   reapLedger: completed ${reaped.completedDeletes.length} committed delete(s): ${reaped.completedDeletes.map((o) => o.key).join(', ')}${reaped.completedDeletes.some((o) => o.key === meetingKey) ? ' (the meeting notes)' : ''}`)
  // Two of each: the file and its excerpt.
  if (reaped.deletedUploads.length !== 2 || reaped.completedDeletes.length !== 2 || reaped.failed.length > 0) process.exitCode = 1

  step('What is in storage now')
  const finalRows = await documents.find({ order: { id: 'ASC' } })
  const referenced = referencedKeys(finalRows)
  const objects = await listStorage()
  table(objects.map((o) => ({ key: o.path, size: formatBytes(o.size), 'referenced by a row': referenced.has(o.path) ? 'yes' : 'NO' })))
  const consistent = objects.length === referenced.size && objects.every((o: { path: string }) => referenced.has(o.path))
  console.log(`   ${finalRows.length} documents, ${objects.length} objects, ${formatBytes(objects.reduce((s, o) => s + o.size, 0))}: ${consistent ? 'every object is referenced and every reference exists' : 'INCONSISTENT'}`)
  if (!consistent) process.exitCode = 1

  await dataSource.destroy()
  await rm(inbox, { recursive: true, force: true })
  console.log(`\nDemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s. Data left in ${home} for inspection; run it again any time.`)
}
