// The server's own ceiling: the same requests made by curl (C, libcurl, SigV4-signed), so the
// reader sees how close each library gets. CPU seconds and peak RSS are curl's own, from
// /usr/bin/time; the wall time is measured by the worker around the call.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

function auth(ctx) {
  const t = ctx.target
  // s3s (the server's protocol layer) wants x-amz-content-sha256 on every request; curl signs it as given
  return ['--aws-sigv4', `aws:amz:${t.region}:s3`, '--user', `${t.accessKeyId}:${t.secretAccessKey}`,
    '-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD']
}
const url = (ctx, key) => `${ctx.target.endpoint}/${ctx.target.bucket}/${key}`

async function timed(ctx, args) {
  const timeFile = path.join(ctx.paths.tmp, `time-${process.pid}.txt`)
  const hasTime = fs.existsSync('/usr/bin/time')
  const [cmd, argv] = hasTime ? ['/usr/bin/time', ['-f', '%U %S %M', '-o', timeFile, 'curl', ...args]] : ['curl', args]
  const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d) => { stderr += d })
  const code = await new Promise((resolve) => child.on('close', resolve))
  if (code !== 0) throw new Error(`curl exited with ${code}: ${stderr.slice(-500)}`)
  if (!hasTime) return {}
  const [user, sys, rssKb] = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number)
  fs.rmSync(timeFile, { force: true })
  return { cpuSeconds: user + sys, peakRssBytes: rssKb * 1024 }
}

/**
 * One large PUT (from a file) or GET (to a file or /dev/null).
 * @param {object} ctx the workload's context (target, paths)
 * @param {{ method: 'PUT' | 'GET', key: string, file?: string, out?: string, bytes: number }} transfer
 */
export async function curlTransfer(ctx, { method, key, file, out, bytes }) {
  const args = ['-sS', '--fail', ...auth(ctx), '-o', out ?? '/dev/null']
  if (method === 'PUT') args.push('-T', file)
  args.push(url(ctx, key))
  const usage = await timed(ctx, args)
  if (out && out !== '/dev/null') fs.rmSync(out, { force: true })
  return { bytes, ...usage }
}

/**
 * `count` small requests, `concurrency` at a time over reused connections (curl --parallel).
 * @param {object} ctx the workload's context (target, paths)
 * @param {{ method: 'PUT' | 'GET', count: number, concurrency: number, key: (i: number) => string, file?: string, range?: string }} requests
 */
export async function curlMany(ctx, { method, count, concurrency, key, file, range }) {
  const config = path.join(ctx.paths.tmp, `curl-${process.pid}.cfg`)
  const lines = []
  for (let i = 0; i < count; i++) {
    lines.push(`url = "${url(ctx, key(i))}"`, 'output = "/dev/null"')
    if (method === 'PUT') lines.push(`upload-file = "${file}"`)
  }
  fs.writeFileSync(config, lines.join('\n') + '\n')
  // curl runs at most 300 transfers at once whatever --parallel-max says (7.88.1 here: 300 live
  // with --parallel-max 500), so at 500 in flight (s3-range-cog) its row is curl at 300
  const args = ['-sS', '--fail', '--parallel', '--parallel-immediate', '--parallel-max', String(Math.min(concurrency, 300)), ...auth(ctx)]
  if (range) args.push('-r', range)
  args.push('-K', config)
  try {
    return { ops: count, ...(await timed(ctx, args)) }
  } finally {
    fs.rmSync(config, { force: true })
  }
}
