// node:fs/promises for whole files, node:fs streams for the large file. Keys are paths under the root.
// `atomic`: files are written as write-file-atomic does (a temporary file beside the target,
// then rename), the guarantee LocalStore's puts give; otherwise straight into place.
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { drain } from '../util.mjs'

/**
 * @param {import('../util.mjs').Target} target
 * @param {{ atomic?: boolean }} [options]
 */
export async function open(target, { atomic = false } = {}) {
  if (target.kind !== 'local') throw new Error('node:fs is for local files only')
  const p = (k) => path.join(target.dir, k)
  const made = new Set()
  const mkdir = async (k) => {
    const dir = path.dirname(p(k))
    if (made.has(dir)) return
    await fsp.mkdir(dir, { recursive: true })
    made.add(dir)
  }
  let staged = 0
  /** Write `file` with `write(path)`: straight, or staged and renamed into place. */
  const publish = async (file, write) => {
    if (!atomic) return write(file)
    const tmp = `${file}.${process.pid}.${staged++}.tmp`
    try {
      await write(tmp)
      await fsp.rename(tmp, file)
    } catch (err) {
      await fsp.rm(tmp, { force: true })
      throw err
    }
  }
  return {
    putBytes: async (k, buf) => { await mkdir(k); await publish(p(k), (file) => fsp.writeFile(file, buf)) },
    putStream: async (k, readable) => { await mkdir(k); await publish(p(k), (file) => pipeline(readable, fs.createWriteStream(file))) },
    getBytes: async (k) => (await fsp.readFile(p(k))).length,
    getDrain: (k) => drain(fs.createReadStream(p(k), { highWaterMark: 1024 * 1024 })),
    close: async () => {},
  }
}
