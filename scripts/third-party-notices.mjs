#!/usr/bin/env node
// Writes dist/THIRD-PARTY-NOTICES.txt: the licence of every npm package whose code tsup bundled
// into dist/ (file-type and its own dependencies, which tsup.config.ts's noExternal inlines, and
// tsup's CommonJS shims), so the published package carries the notices their licences ask for
// (package.json's `files` ships dist/). `npm run build:ts` runs it after tsup.
//
// Which packages were bundled comes from esbuild's metafile (tsup.config.ts sets `metafile`):
// every input under node_modules/ names its package. The metafiles are removed afterwards, so
// they are not published. A bundled package without a licence file fails the build: a new
// bundled dependency cannot ship without its notice.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const NOTICES_FILE = 'THIRD-PARTY-NOTICES.txt'

const LICENCE_FILE = /^(licen[cs]e|copying|notice)([.-].*)?$/i

/**
 * The directories (relative to the build's working directory) of the packages that bundled
 * `inputs` come from: `node_modules/<name>` or `node_modules/@scope/<name>`, the innermost one
 * when packages are nested.
 * @param {string[]} inputs the metafile's input paths
 * @returns {string[]}
 */
export function bundledPackageDirs(inputs) {
  const dirs = new Set()
  for (const input of inputs) {
    const at = input.lastIndexOf('node_modules/')
    if (at < 0) continue
    const parts = input.slice(at + 'node_modules/'.length).split('/')
    const name = parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]
    dirs.add(`${input.slice(0, at)}node_modules/${name}`)
  }
  return [...dirs].sort()
}

/**
 * The notice of one bundled package: its name, version, licence and home, then its licence
 * (and NOTICE) files as they ship.
 * @param {string} dir the package's directory
 * @returns {{ name: string, text: string }}
 */
function noticeOf(dir) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  const files = readdirSync(dir).filter((file) => LICENCE_FILE.test(file)).sort()
  if (files.length === 0) throw new Error(`${pkg.name}@${pkg.version} (${dir}) is bundled into dist/ but has no licence file to ship`)
  const repository = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url
  const home = pkg.homepage ?? repository
  const header = [`${pkg.name}@${pkg.version}`, `License: ${pkg.license ?? 'see below'}`, ...(home ? [`Home: ${home}`] : [])]
  const bodies = files.map((file) => readFileSync(join(dir, file), 'utf8').trim())
  return { name: pkg.name, text: `${header.join('\n')}\n\n${bodies.join('\n\n')}\n` }
}

/**
 * Reads the metafiles tsup left in `dist`, writes `dist/THIRD-PARTY-NOTICES.txt` and removes
 * the metafiles. Returns the names of the packages listed.
 * @param {string} dist
 * @param {string} cwd where the build ran (the metafile's paths are relative to it)
 * @returns {string[]}
 */
export function writeThirdPartyNotices(dist, cwd) {
  const metafiles = readdirSync(dist).filter((file) => /^metafile-.*\.json$/.test(file))
  if (metafiles.length === 0) throw new Error(`no esbuild metafile in ${dist}: tsup.config.ts must set metafile: true`)
  const inputs = metafiles.flatMap((file) => Object.keys(JSON.parse(readFileSync(join(dist, file), 'utf8')).inputs))
  const notices = bundledPackageDirs(inputs).map((dir) => noticeOf(join(cwd, dir)))
  const separator = `\n${'-'.repeat(78)}\n\n`
  const intro =
    'stowage bundles the following third-party packages into dist/. Their licences follow.\n' +
    'stowage itself is under the licence in its LICENSE file.\n'
  writeFileSync(join(dist, NOTICES_FILE), `${intro}${separator}${notices.map((n) => n.text).join(separator)}`)
  for (const file of metafiles) rmSync(join(dist, file))
  return notices.map((n) => n.name)
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..')
  const dist = process.argv[2] ?? join(root, 'dist')
  if (!existsSync(dist)) throw new Error(`${dist} does not exist: run tsup first`)
  const names = writeThirdPartyNotices(dist, root)
  console.log(`dist/${NOTICES_FILE}: ${names.length} bundled packages (${names.join(', ')})`)
}
