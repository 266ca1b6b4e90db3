// node:fs/promises for whole files, node:fs streams for the large file. Keys are paths under the root.
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { drain } from '../util.mjs'

export async function open(target) {
  if (target.kind !== 'local') throw new Error('node:fs is for local files only')
  const p = (k) => path.join(target.dir, k)
  const made = new Set()
  const mkdir = async (k) => {
    const dir = path.dirname(p(k))
    if (made.has(dir)) return
    await fsp.mkdir(dir, { recursive: true })
    made.add(dir)
  }
  return {
    putBytes: async (k, buf) => { await mkdir(k); await fsp.writeFile(p(k), buf) },
    putStream: async (k, readable) => { await mkdir(k); await pipeline(readable, fs.createWriteStream(p(k))) },
    getBytes: async (k) => (await fsp.readFile(p(k))).length,
    getDrain: (k) => drain(fs.createReadStream(p(k), { highWaterMark: 1024 * 1024 })),
    close: async () => {},
  }
}
