// The S3 server's own CPU time, so each S3 row can show what the server spent on it beside
// what the client spent. The two share this machine's cores: a row's rate is bounded by the
// sum, and a client's saving counts for less the more of it the server takes.
//
// Linux only (it reads /proc); elsewhere there is no pid and the column stays empty.
import fs from 'node:fs'

// /proc/<pid>/stat counts in clock ticks of USER_HZ, which Linux fixes at 100 on every
// architecture Node runs on, whatever the kernel's own tick rate is.
const TICKS_PER_SECOND = 100

/**
 * The pid of the crates/s3-mem-server process listening on `endpoint`'s port, or null when
 * none is found (not Linux, or the server runs elsewhere).
 * @param {string} endpoint e.g. http://127.0.0.1:40435
 * @returns {number | null}
 */
export function findServerPid(endpoint) {
  const port = new URL(endpoint).port
  let entries
  try { entries = fs.readdirSync('/proc') } catch { return null }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 's3-mem-server') continue
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')
      const at = argv.indexOf('--port')
      if (at >= 0 && argv[at + 1] === port) return Number(entry)
    } catch { /* the process ended while we looked */ }
  }
  return null
}

/**
 * User + system seconds the process has run so far, all its threads (ended ones too), in
 * steps of 10 ms; null without a pid or when it cannot be read.
 * @param {number | null | undefined} pid
 * @returns {number | null}
 */
function processCpuSeconds(pid) {
  if (!pid) return null
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // the command name (field 2) is in parentheses and may hold spaces: count after it
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // fields[0] is field 3 (state), so utime (field 14) and stime (15) are 11 and 12
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
  } catch {
    return null
  }
}

/**
 * Starts a reading of the process's CPU; the function it returns gives the seconds since,
 * or null when either reading failed (or there is no pid).
 * @param {number | null | undefined} pid
 * @returns {() => number | null}
 */
export function cpuSecondsFrom(pid) {
  const start = processCpuSeconds(pid)
  return () => {
    const now = processCpuSeconds(pid)
    return start == null || now == null ? null : now - start
  }
}
