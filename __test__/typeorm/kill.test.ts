/**
 * A process that saves, replaces and removes rows with files is SIGKILLed at seeded random
 * moments, many times, on PostgreSQL, MariaDB and SQLite (sql.js saved to a file); then
 * `reapLedger({ olderThan: 0 })` runs, and storage and database must agree exactly: every key a
 * row references exists, every object is referenced by a row, and no ledger entry is left.
 *
 * STOWAGE_KILL_ROUNDS (kills per database, default 50: 150 kills in all, which fit the suite's
 * time on two shared cores) and STOWAGE_KILL_SEED replay or
 * lengthen a run.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalStore, storages } from '../../src/index.js'
import { StoredObjectDataSource, StoredObjectLedger, reapLedger } from '../../src/typeorm/index.js'
import { bundleLibrary } from '../fixtures/child-process.js'
import { KILL_BACKEND, KillDocument, killDataSourceOptions, seededRandom, type KillDatabase, type KillTarget } from './kill-entities.js'
import { MARIADB_URL, POSTGRES_URL, createNamespace, listKeys } from './databases.js'

const ROUNDS = Number(process.env.STOWAGE_KILL_ROUNDS ?? 50)
const SEED = Number(process.env.STOWAGE_KILL_SEED ?? 14)
const CHILD_ENTRY = '__test__/fixtures/kill-child.ts'
const NAMESPACE = 'stowage_kill'

let child = ''
let scratch = ''
// The three databases' rows all name one store, KILL_BACKEND: their checks take turns with it.
let checking: Promise<unknown> = Promise.resolve()

async function targetFor(kind: KillDatabase): Promise<KillTarget> {
  if (kind === 'sqlite') return { kind, file: path.join(scratch, 'kill.sqlite') }
  await createNamespace(kind, NAMESPACE)
  if (kind === 'postgres') return { kind, url: POSTGRES_URL, schema: NAMESPACE }
  const url = new URL(MARIADB_URL)
  url.pathname = `/${NAMESPACE}`
  return { kind, url: url.toString() }
}

interface Life {
  ops: number
  exitedOnItsOwn: string | undefined
}

/**
 * Runs one child until it has finished `afterOps` operations, then `delayMs` more (so the kill
 * lands anywhere within an operation: an upload, a write, a commit, the deletes after it), then
 * SIGKILLs it. Counting operations rather than time keeps the kills spread over the same work
 * on a slow machine as on a fast one.
 */
function liveAndDie(target: KillTarget, storeDirectory: string, seed: number, afterOps: number, delayMs: number): Promise<Life> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, JSON.stringify(target), storeDirectory, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let killed = false
    let timer: NodeJS.Timeout | undefined
    // A child too slow to reach its operation count (a loaded machine) is killed where it is.
    const failsafe = setTimeout(() => {
      killed = true
      proc.kill('SIGKILL')
    }, 15_000)
    proc.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text
      const done = stdout.match(/^op \d+$/gm)?.length ?? 0
      if (timer === undefined && stdout.startsWith('ready\n') && done >= afterOps) {
        timer = setTimeout(() => {
          killed = true
          proc.kill('SIGKILL')
        }, delayMs)
      }
    })
    proc.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text })
    proc.on('error', reject)
    proc.on('close', (code, signal) => {
      clearTimeout(failsafe)
      clearTimeout(timer)
      const ops = stdout.match(/^op \d+$/gm)?.length ?? 0
      resolve({ ops, exitedOnItsOwn: killed && signal === 'SIGKILL' ? undefined : `code ${code}, signal ${signal}: ${stderr.slice(-2000)}` })
    })
  })
}

async function killRepeatedly(kind: KillDatabase): Promise<void> {
  const random = seededRandom(SEED * 31 + kind.length)
  const target = await targetFor(kind)
  const storeDirectory = path.join(scratch, `store-${kind}`)
  fs.mkdirSync(storeDirectory, { recursive: true })
  if (target.file !== undefined) fs.rmSync(target.file, { force: true })

  const setup = new StoredObjectDataSource(killDataSourceOptions(target, true))
  await setup.initialize()
  await setup.destroy()

  let ops = 0
  const started = Date.now()
  for (let round = 0; round < ROUNDS; round++) {
    // Most kills land within the first operations, some after many.
    const afterOps = random() < 0.8 ? Math.floor(random() * 4) : 4 + Math.floor(random() * 12)
    const life = await liveAndDie(target, storeDirectory, Math.floor(random() * 2 ** 31), afterOps, Math.floor(random() * 60))
    if (life.exitedOnItsOwn !== undefined) throw new Error(`${kind}: the child ended before its kill (${life.exitedOnItsOwn})`)
    ops += life.ops
  }
  const killedFor = Date.now() - started
  const turn = checking.then(() => check(kind, target, storeDirectory, ops, killedFor))
  checking = turn.catch(() => undefined)
  await turn
}

async function check(kind: KillDatabase, target: KillTarget, storeDirectory: string, ops: number, killedFor: number): Promise<void> {
  const store = new LocalStore(storeDirectory)
  storages.register(KILL_BACKEND, store, { replace: true })
  const dataSource = new StoredObjectDataSource(killDataSourceOptions(target, false))
  await dataSource.initialize()
  try {
    const before = await listKeys(store)
    const entriesBefore = await dataSource.getRepository(StoredObjectLedger).count()
    const journal = target.file === undefined ? [] : readJournal(`${target.file}.stowage-ledger`)
    const report = await reapLedger(dataSource, { olderThan: 0 })
    const again = await reapLedger(dataSource, { olderThan: 0 })

    const rows = await dataSource.getRepository(KillDocument).find()
    const referenced = rows.flatMap((row) => [row.file, ...row.attachments].filter((f) => f !== null).map((f) => f.key)).sort()
    const objects = await listKeys(store)
    const entriesAfter = await dataSource.getRepository(StoredObjectLedger).count()

    console.log(
      `kill test on ${kind} (seed ${SEED}): ${ROUNDS} kills in ${(killedFor / 1000).toFixed(1)} s, ${ops} operations finished; ` +
        `before reaping ${before.length} objects, ${entriesBefore} ledger entries, ${journal.length} journal lines; ` +
        `reapLedger deleted ${report.deletedUploads.length} uncommitted uploads, completed ${report.completedDeletes.length} deletes, ` +
        `settled ${report.settledUploads.length}, failed ${report.failed.length}; ` +
        `after: ${rows.length} rows referencing ${referenced.length} keys, ${objects.length} objects, ${entriesAfter} ledger entries`,
    )
    expect(report.failed).toEqual([])
    expect(again.deletedUploads.length + again.completedDeletes.length + again.settledUploads.length).toBe(0)
    expect(entriesAfter).toBe(0)
    if (target.file !== undefined) expect(fs.existsSync(`${target.file}.stowage-ledger`)).toBe(false)
    expect(new Set(referenced).size).toBe(referenced.length)
    // No row without its object, no object without its row.
    expect(referenced.filter((key) => !objects.includes(key))).toEqual([])
    expect(objects.filter((key) => !referenced.includes(key))).toEqual([])
    expect(ops).toBeGreaterThan(0)
  } finally {
    await dataSource.destroy()
  }
}

function readJournal(file: string): string[] {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter((line) => line.length > 0) : []
}

describe('a killed process leaves nothing reapLedger cannot finish', () => {
  beforeAll(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'stowage-kill-'))
    child = await bundleLibrary('stowage-kill-child', {
      entry: CHILD_ENTRY,
      external: ['typeorm', 'reflect-metadata', 'pg', 'mysql2', 'sql.js'],
    })
  })
  afterAll(() => {
    storages.unregister(KILL_BACKEND)
    // maxRetries: a child killed by a failing test may still be removing its last file.
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true, maxRetries: 5 })
  })

  // The three run at once: each waits mostly on its child's start and its kill timer.
  it.concurrent.each(['postgres', 'mariadb', 'sqlite'] as const)('on %s', async (kind) => killRepeatedly(kind), 600_000)
})
