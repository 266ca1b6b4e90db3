/**
 * A process that saves, replaces and removes rows with files (and their derivatives) is
 * SIGKILLed at seeded random moments, many times, on PostgreSQL, MariaDB and SQLite (sql.js
 * saved to a file); then `reapLedger({ olderThan: 0 })` runs, and storage and database must
 * agree exactly: every key a row references exists, every object is referenced by a row, and no
 * ledger entry is left.
 *
 * STOWAGE_KILL_ROUNDS (kills per database, default 100: 300 kills in all) and STOWAGE_KILL_SEED
 * replay or lengthen a run.
 *
 * A round's time went mostly to the child's start-up: loading TypeORM and the drivers from
 * hundreds of files, then opening its DataSource. The child is one CommonJS bundle with them
 * inlined (a fraction of the load time), and the next child is started while the current one
 * runs: it loads, then waits for the word to open its DataSource once the current one is dead.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Readable, Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalStore, storages } from '../../src/index.js'
import { StoredObjectDataSource, StoredObjectLedger, reapLedger } from '../../src/typeorm/index.js'
import { bundleLibrary } from '../fixtures/child-process.js'
import { KILL_BACKEND, KillDocument, killDataSourceOptions, seededRandom, type KillDatabase, type KillTarget } from './kill-entities.js'
import { MARIADB_URL, POSTGRES_URL, createNamespace, listKeys } from './databases.js'

const ROUNDS = Number(process.env.STOWAGE_KILL_ROUNDS ?? 100)
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
  /** From the word to go to `ready`: what start-up was left (sql.js: opening the DataSource). */
  openedInMs: number | undefined
  exitedOnItsOwn: string | undefined
}

/** A child that has been started and is loading, or waiting for the word to go. */
interface WaitingChild {
  proc: ChildProcessByStdio<Writable, Readable, Readable>
  stdout: string
  stderr: string
  /** Called on each piece of stdout. */
  onOutput: (() => void) | undefined
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>
}

const opsIn = (stdout: string) => stdout.match(/^op \d+$/gm)?.length ?? 0

function startChild(target: KillTarget, storeDirectory: string, seed: number): WaitingChild {
  const proc = spawn(process.execPath, [child, JSON.stringify(target), storeDirectory, String(seed)], { stdio: ['pipe', 'pipe', 'pipe'] })
  const waiting: WaitingChild = {
    proc,
    stdout: '',
    stderr: '',
    onOutput: undefined,
    closed: new Promise((resolve) => {
      proc.on('error', (error) => resolve({ code: null, signal: null, error }))
      proc.on('close', (code, signal) => resolve({ code, signal }))
    }),
  }
  // A child that died before reading the word to go makes the write fail (EPIPE); its exit
  // says why.
  proc.stdin.on('error', () => {})
  proc.stdout.setEncoding('utf8').on('data', (text: string) => {
    waiting.stdout += text
    waiting.onOutput?.()
  })
  proc.stderr.setEncoding('utf8').on('data', (text: string) => { waiting.stderr += text })
  return waiting
}

/**
 * Lets a started child go, waits until it has finished `afterOps` operations, then `delayMs`
 * more (so the kill lands anywhere within an operation: an upload, a derivative, a write, a
 * commit, the deletes after it), then SIGKILLs it. Counting operations rather than time keeps
 * the kills spread over the same work on a slow machine as on a fast one.
 */
async function liveAndDie(running: WaitingChild, afterOps: number, delayMs: number): Promise<Life> {
  let killed = false
  const kill = () => {
    killed = true
    running.proc.kill('SIGKILL')
  }
  // A child too slow to reach its operation count (a loaded machine) is killed where it is.
  const failsafe = setTimeout(kill, 15_000)
  let timer: NodeJS.Timeout | undefined
  const went = Date.now()
  let openedInMs: number | undefined
  running.onOutput = () => {
    if (openedInMs === undefined && running.stdout.startsWith('ready\n')) openedInMs = Date.now() - went
    if (timer === undefined && openedInMs !== undefined && opsIn(running.stdout) >= afterOps) timer = setTimeout(kill, delayMs)
  }
  running.proc.stdin.write('go\n')
  const { code, signal, error } = await running.closed
  clearTimeout(failsafe)
  clearTimeout(timer)
  if (error !== undefined) throw error
  const exitedOnItsOwn = killed && signal === 'SIGKILL' ? undefined : `code ${code}, signal ${signal}: ${running.stderr.slice(-2000)}`
  return { ops: opsIn(running.stdout), openedInMs, exitedOnItsOwn }
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
  const opened: number[] = []
  const started = Date.now()
  const nextChild = () => startChild(target, storeDirectory, Math.floor(random() * 2 ** 31))
  let next = nextChild()
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // Most kills land within the first operations, some after many.
      const afterOps = random() < 0.8 ? Math.floor(random() * 4) : 4 + Math.floor(random() * 12)
      const delayMs = Math.floor(random() * 60)
      const current = next
      // It loads while this one lives; it goes once this one is dead.
      next = nextChild()
      const life = await liveAndDie(current, afterOps, delayMs)
      if (life.exitedOnItsOwn !== undefined) throw new Error(`${kind}: the child ended before its kill (${life.exitedOnItsOwn})`)
      ops += life.ops
      if (life.openedInMs !== undefined) opened.push(life.openedInMs)
    }
  } finally {
    // The last one started never goes.
    next.proc.kill('SIGKILL')
    await next.closed
  }
  const killedFor = Date.now() - started
  const openedMs = opened.length === 0 ? 0 : opened.reduce((sum, ms) => sum + ms, 0) / opened.length
  const turn = checking.then(() => check(kind, target, storeDirectory, ops, killedFor, openedMs))
  checking = turn.catch(() => undefined)
  await turn
}

async function check(kind: KillDatabase, target: KillTarget, storeDirectory: string, ops: number, killedFor: number, openedMs: number): Promise<void> {
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
    const files = rows.flatMap((row) => [row.file, ...row.attachments].filter((f) => f !== null))
    const derivatives = files.flatMap((f) => Object.values(f.derivatives))
    const referenced = [...files, ...derivatives].map((f) => f.key).sort()
    const objects = await listKeys(store)
    const entriesAfter = await dataSource.getRepository(StoredObjectLedger).count()

    console.log(
      `kill test on ${kind} (seed ${SEED}): ${ROUNDS} kills in ${(killedFor / 1000).toFixed(1)} s ` +
        `(${openedMs.toFixed(0)} ms on average from go to ready), ${ops} operations finished; ` +
        `before reaping ${before.length} objects, ${entriesBefore} ledger entries, ${journal.length} journal lines; ` +
        `reapLedger deleted ${report.deletedUploads.length} uncommitted uploads, completed ${report.completedDeletes.length} deletes, ` +
        `settled ${report.settledUploads.length}, failed ${report.failed.length}; ` +
        `after: ${rows.length} rows referencing ${referenced.length} keys (${derivatives.length} of them derivatives), ${objects.length} objects, ${entriesAfter} ledger entries`,
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
    // The derivatives were made and kept: every main file a row holds has its one.
    expect(derivatives.length).toBe(rows.filter((row) => row.file !== null).length)
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
      format: 'cjs',
      // TypeORM (a peer) and the drivers are inlined; sql.js loads its .wasm from its own
      // directory, and pg's optional native binding is not installed.
      noExternal: ['typeorm'],
      external: ['sql.js', 'pg-native'],
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
