#!/usr/bin/env node
// Re-renders the Markdown table and the SVG chart from a results file, without measuring:
//   node bench/render.mjs [bench/results/latest.json] [--readme]
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { markdown, svg, writeReadme } from './report.mjs'

const BENCH = path.dirname(fileURLToPath(import.meta.url))
const file = process.argv.slice(2).find((a) => !a.startsWith('--')) ?? path.join(BENCH, 'results', 'latest.json')
const { meta, targets, rows } = JSON.parse(fs.readFileSync(file, 'utf8'))
if (/issue-sizes/.test(file)) meta.issueSizes = true
for (const r of rows) if (r.workload === 'event-loop-p99') r.title = `event-loop delay p99, ${meta.titles['s3-large-put-mem']}`
const svgName = path.basename(file).replace(/^latest/, 'ratios').replace(/\.json$/, '.svg')
fs.writeFileSync(path.join(path.dirname(file), svgName), svg(rows, meta))
const md = markdown(rows, meta, targets, svgName)
if (process.argv.includes('--readme')) writeReadme(path.join(BENCH, '..', 'README.md'), md)
process.stdout.write(`${md}\n`)
