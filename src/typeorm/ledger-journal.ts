import fs from 'node:fs'
import path from 'node:path'
import type { StoredObjectLedger } from './ledger-entity.js'

/** One upload entry as the journal keeps it. */
export interface JournalEntry {
  id: string
  backend: string
  key: string
  /** Milliseconds since the epoch. */
  created: number
}

type JournalLine = ({ op: '+' } & JournalEntry) | { op: '-'; id: string }

// Past this size, a removal rewrites the journal with only its pending entries.
const COMPACT_AT_BYTES = 1 << 20

function fsyncDirectory(directory: string): void {
  let fd: number | undefined
  try {
    fd = fs.openSync(directory, 'r')
    fs.fsyncSync(fd)
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory; the file's own fsync still holds.
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}

/**
 * The ledger's upload entries for a database with one connection (sql.js, SQLite), where an
 * entry cannot be committed beside the open transaction that uploads: a file beside the
 * database file, `<database>.stowage-ledger`, one JSON line per event (`+` an upload about to
 * start, `-` its entry removed). `append` is written and fsynced before the upload starts.
 *
 * Every method is synchronous, so within a process no append can fall between a rewrite's read
 * and its rename. One process per database file, as sql.js itself requires.
 */
export class LedgerJournal {
  /** The journal's path. */
  readonly file: string

  constructor(databaseFile: string) {
    this.file = `${databaseFile}.stowage-ledger`
  }

  /** Appends `+` lines for `entries` and fsyncs them (and, on creation, the directory). */
  append(entries: StoredObjectLedger[]): void {
    const lines = entries.map((e) => ({ op: '+', id: e.id, backend: e.backend, key: e.key, created: e.created.getTime() }) satisfies JournalLine)
    const created = !fs.existsSync(this.file)
    this.#write(lines, true)
    if (created) fsyncDirectory(path.dirname(this.file))
  }

  /** Appends `-` lines for `ids` (not fsynced: a lost one only leaves reapLedger an entry to settle). */
  remove(ids: string[]): void {
    if (ids.length === 0 || !fs.existsSync(this.file)) return
    this.#write(ids.map((id) => ({ op: '-', id }) satisfies JournalLine), false)
    if (fs.statSync(this.file).size > COMPACT_AT_BYTES) this.rewrite(new Set())
  }

  /** The entries not removed yet, oldest first. */
  pending(): JournalEntry[] {
    let text: string
    try {
      text = fs.readFileSync(this.file, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw error
    }
    const entries = new Map<string, JournalEntry>()
    for (const line of text.split('\n')) {
      let parsed: JournalLine
      try {
        parsed = JSON.parse(line) as JournalLine
      } catch {
        // An empty line, or the torn last line of a process killed mid-append: that append was
        // not fsynced, so its upload never started.
        continue
      }
      if (parsed.op === '+') entries.set(parsed.id, { id: parsed.id, backend: parsed.backend, key: parsed.key, created: parsed.created })
      else if (parsed.op === '-') entries.delete(parsed.id)
    }
    return [...entries.values()]
  }

  /**
   * Rewrites the journal with only its pending entries, less `settled`: written to a temporary
   * file, fsynced, and renamed over the journal, so a kill leaves the old journal or the new one.
   * With nothing left, the journal is deleted.
   */
  rewrite(settled: ReadonlySet<string>): void {
    const remaining = this.pending().filter((entry) => !settled.has(entry.id))
    if (remaining.length === 0) {
      fs.rmSync(this.file, { force: true })
      return
    }
    const temporary = `${this.file}.tmp`
    const fd = fs.openSync(temporary, 'w')
    try {
      fs.writeSync(fd, remaining.map((entry) => `${JSON.stringify({ op: '+', ...entry })}\n`).join(''))
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(temporary, this.file)
    fsyncDirectory(path.dirname(this.file))
  }

  #write(lines: JournalLine[], durable: boolean): void {
    const fd = fs.openSync(this.file, 'a')
    try {
      // A leading newline ends a torn line a killed process may have left, so it cannot swallow this one.
      fs.writeSync(fd, `\n${lines.map((line) => JSON.stringify(line)).join('\n')}\n`)
      if (durable) fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
  }
}
