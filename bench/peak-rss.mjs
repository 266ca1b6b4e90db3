// The process's own peak resident set size.
//
// Not `process.resourceUsage().maxRSS` on Linux: getrusage's ru_maxrss survives exec, so a
// worker spawned by a runner holding 300 MiB of fixtures reported 300 MiB whatever it used
// itself (seen on kernel 6.18, where every Node row of a small workload read 310 MiB). The
// kernel's VmHWM (/proc/self/status) is the high-water mark of this process's own memory map,
// which exec replaces.
import fs from 'node:fs'

/**
 * Peak RSS of this process in bytes: VmHWM on Linux, ru_maxrss elsewhere.
 * @returns {number}
 */
export function peakRssBytes() {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))
    if (hwm) return Number(hwm[1]) * 1024
  } catch { /* not Linux: no /proc */ }
  return process.resourceUsage().maxRSS * 1024
}
