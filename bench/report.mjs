// Turns the measurements into rows, the targets check, the Markdown table and the SVG chart.
import fs from 'node:fs'

const GiB = 2 ** 30
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2 }

/**
 * One row of the table: a (library, workload) pair; the measured fields are absent from a row
 * that was not run or failed on every run.
 * @typedef {object} Row
 * @property {string} library
 * @property {string} workload
 * @property {string} title
 * @property {string} unit
 * @property {'ok' | 'partial' | 'failed' | 'not run'} status
 * @property {string} [note] why a row was not run
 * @property {string} [error] the first failure's message
 * @property {number} [runs] runs that succeeded
 * @property {number} [failures] runs that failed
 * @property {number} [median]
 * @property {number} [min]
 * @property {number} [max]
 * @property {number[]} [samples]
 * @property {number[]} [rounds] the round of each sample (0-based), for pairedSpeedup
 * @property {number | null} [cpuSeconds]
 * @property {string | null} [cpuUnit]
 * @property {number | null} [serverCpuSeconds] the S3 server's CPU over the same runs, per cpuUnit
 * @property {number | null} [peakRssBytes]
 * @property {number[]} [eventLoop] per-run event-loop p99s (ms), until they become rows of their own
 * @property {number} [ratio] this row's median ÷ stowage's
 * @property {number} [speedup] how many times better stowage is
 * @property {number | null} [pairedSpeedup] the same, taken within each round: the median over the rounds
 */

/** @returns {Row[]} */
export function aggregate(plan, samples, cfg, unavailable) {
  /** @type {Row[]} */
  const rows = []
  for (const { w, libs } of plan) {
    /** @type {Row[]} */
    const group = []
    for (const lib of libs) {
      const base = { library: lib, workload: w.id, title: w.title(cfg), unit: w.unit }
      if (unavailable[lib]) { group.push({ ...base, status: 'not run', note: unavailable[lib] }); continue }
      const ms = samples.get(`${w.id}\t${lib}`) ?? []
      const ok = ms.filter((m) => !m.error)
      const errors = ms.filter((m) => m.error).map((m) => m.error)
      if (!ok.length) { group.push({ ...base, status: 'failed', error: errors[0] ?? 'no result' }); continue }
      const rate = ok.map((m) => (m.bytes ? m.bytes / 1e6 / m.seconds : m.ops / m.seconds))
      const rounds = ok.map((m) => m.round)
      const per = (seconds, m) => (m.bytes ? seconds / (m.bytes / GiB) : seconds / (m.ops / 1000))
      const perUnit = ok.filter((m) => m.cpuSeconds != null).map((m) => per(m.cpuSeconds, m))
      const serverPerUnit = ok.filter((m) => m.serverCpuSeconds != null).map((m) => per(m.serverCpuSeconds, m))
      const rss = ok.filter((m) => m.peakRssBytes != null).map((m) => m.peakRssBytes)
      group.push({
        ...base, status: errors.length ? 'partial' : 'ok', runs: ok.length, failures: errors.length, ...(errors.length ? { error: errors[0] } : {}),
        median: median(rate), min: Math.min(...rate), max: Math.max(...rate),
        cpuSeconds: perUnit.length ? median(perUnit) : null, cpuUnit: ok[0].bytes ? 's/GiB' : 's/1k ops',
        serverCpuSeconds: serverPerUnit.length ? median(serverPerUnit) : null,
        peakRssBytes: rss.length ? median(rss) : null, samples: rate, rounds,
        ...(w.id === 's3-large-put-mem' && lib !== 'limit' ? { eventLoop: ok.map((m) => m.eventLoopP99Ms) } : {}),
      })
    }
    finishRatios(group, true)
    rows.push(...group)
    if (w.id === 's3-large-put-mem') {
      const loop = group.filter((r) => r.eventLoop).map((r) => /** @type {Row} */ ({
        library: r.library, workload: 'event-loop-p99', title: `event-loop delay p99, ${w.title(cfg)}`,
        unit: 'ms', status: r.status, runs: r.runs, median: median(r.eventLoop), min: Math.min(...r.eventLoop), max: Math.max(...r.eventLoop),
        cpuSeconds: null, cpuUnit: null, serverCpuSeconds: null, peakRssBytes: null, samples: r.eventLoop, rounds: r.rounds,
      }))
      for (const r of group) delete r.eventLoop
      finishRatios(loop, false)
      rows.push(...loop)
    }
  }
  return rows
}

/**
 * ratio: this row's median ÷ stowage's; speedup: how many times better stowage is;
 * pairedSpeedup: the same speed-up taken within each round (stowage's run ÷ this row's run of
 * that round, the median over the rounds both ran). The machine's speed drifts from round to
 * round (2 shared cores: one run's 5 rounds of the same small gets spanned 10 600 to 16 200
 * ops/s), and a round's runs lie minutes apart at most, so the paired figure cancels most
 * of that drift, where the ratio of two medians may take them from different rounds.
 */
function finishRatios(group, higherIsBetter) {
  const s = group.find((r) => r.library === 'stowage' && r.median != null)
  for (const r of group) {
    if (r.median == null || !s) continue
    r.ratio = r.median / s.median
    r.speedup = higherIsBetter ? s.median / r.median : r.median / s.median
    const paired = r.samples.flatMap((v, i) => {
      const j = s.rounds.indexOf(r.rounds[i])
      return j < 0 ? [] : [higherIsBetter ? s.samples[j] / v : v / s.samples[j]]
    })
    r.pairedSpeedup = paired.length ? median(paired) : null
  }
}

const row = (rows, w, l) => rows.find((r) => r.workload === w && r.library === l && r.median != null)
const x = (v) => `${v.toFixed(2)}×`

export function checkTargets(rows) {
  const out = []
  const bestAws = (w) => ['aws-sdk', 'aws-sdk-tuned'].map((l) => row(rows, w, l)).filter(Boolean).sort((a, b) => b.median - a.median)[0]
  for (const w of ['s3-large-put-mem', 's3-large-put-file', 's3-large-get-mem', 's3-large-get-file']) {
    const s = row(rows, w, 'stowage'); const a = bestAws(w)
    if (!s || !a) continue
    const awsCpu = Math.min(...['aws-sdk', 'aws-sdk-tuned'].map((l) => row(rows, w, l)?.cpuSeconds).filter((c) => c != null))
    const speed = s.median / a.median; const cpu = s.cpuSeconds / awsCpu
    const u = row(rows, w, 'stowage-unsigned')
    const unsigned = u ? `; unsigned payload (stowage's HTTPS default): ${x(u.median / a.median)}, ${x(u.cpuSeconds / awsCpu)} its CPU/GiB` : ''
    out.push({ target: `${w}: ≥ 2× the AWS SDK's throughput, ≤ 0.5× its CPU/GiB`, met: speed >= 2 && cpu <= 0.5,
      detail: `${x(speed)} the best AWS SDK setup (${a.library}); ${x(cpu)} its lowest CPU/GiB${unsigned}` })
  }
  for (const w of ['s3-small-put', 's3-small-get', 's3-range']) {
    const s = row(rows, w, 'stowage'); const a = bestAws(w)
    if (!s || !a) continue
    const speed = s.median / a.median
    out.push({ target: `${w}: ≥ 3× the AWS SDK's ops/s`, met: speed >= 3, detail: `${x(speed)} ${a.library}` })
  }
  {
    const s = row(rows, 'presign', 'stowage'); const a = row(rows, 'presign', 'aws-sdk'); const one = row(rows, 'presign-one', 'stowage')
    if (s && a) out.push({ target: 'presign: ≥ 10× the AWS SDK\'s rate', met: s.median / a.median >= 10,
      detail: `signUrls (batch) ${x(s.median / a.median)}${one ? `; signUrl one at a time ${x(one.median / a.median)}` : ''}` })
    const ob = row(rows, 'presign-one', 'obstore'); const dal = row(rows, 'presign-one', 'opendal')
    if (one && ob && dal) out.push({ target: 'presign-one: signUrl ≥ 2× obstore\'s rate and ≥ 5× OpenDAL\'s', met: ob.speedup >= 2 && dal.speedup >= 5,
      detail: `${x(ob.speedup)} obstore's sign, ${x(dal.speedup)} OpenDAL's presignRead` })
  }
  // Writes against the node:fs way with the same guarantee (temporary file + rename), reads
  // against node:fs; stowage's `atomic: false` puts against plain writeFile.
  for (const w of ['local-small-put', 'local-small-get', 'local-large-put', 'local-large-get', 'local-buffer-put-get']) {
    const s = row(rows, w, 'stowage')
    const peer = ['local-small-put', 'local-buffer-put-get'].includes(w) ? 'node:fs-atomic' : 'node:fs'
    const f = row(rows, w, peer)
    if (s && f) out.push({ target: `${w}: within 1.25× of ${peer}`, met: s.median * 1.25 >= f.median, detail: `${peer} is ${x(f.median / s.median)} stowage` })
    const d = row(rows, w, 'stowage-nonatomic'); const plain = row(rows, w, 'node:fs')
    if (d && plain) out.push({ target: `${w}, atomic: false: within 1.25× of node:fs (plain writeFile)`, met: d.median * 1.25 >= plain.median, detail: `node:fs is ${x(plain.median / d.median)} stowage-nonatomic` })
  }
  // issue 12: small S3 operations at least 1.2x both native peers, by the median of the rounds
  // and by the ratio of medians alike
  for (const w of ['s3-small-put', 's3-small-get', 's3-range', 's3-range-cog']) {
    const peers = ['opendal', 'obstore'].map((l) => row(rows, w, l)).filter(Boolean)
    if (!row(rows, w, 'stowage') || !peers.length) continue
    out.push({ target: `${w}: ≥ 1.2× OpenDAL's and obstore's ops/s`, met: peers.every((p) => p.speedup >= 1.2 && p.pairedSpeedup >= 1.2),
      detail: peers.map((p) => `${x(p.speedup)} ${p.library}${p.pairedSpeedup == null ? '' : ` (per round ${x(p.pairedSpeedup)})`}`).join(', ') })
  }
  for (const [lib, name] of [['opendal', 'OpenDAL\'s Node binding'], ['obstore', 'Python\'s obstore']]) {
    const peerRows = rows.filter((r) => r.library === lib && r.speedup != null)
    const behind = peerRows.filter((r) => r.speedup < 1)
    if (peerRows.length) {
      out.push({ target: `ahead of ${name} on every row`, met: behind.length === 0,
        detail: behind.length ? `behind on ${behind.map((r) => `${r.workload} (${x(r.speedup)})`).join(', ')}` : `ahead on all ${peerRows.length} rows` })
    }
  }
  const loop = row(rows, 'event-loop-p99', 'stowage')
  if (loop) out.push({ target: 'event-loop p99 < 10 ms during a large upload', met: loop.median < 10, detail: `${loop.median.toFixed(2)} ms` })
  return out
}

const fmtRate = (v, unit) => (unit === 'ms' ? `${v.toFixed(2)} ms` : unit === 'MB/s' ? `${v.toFixed(0)} MB/s` : `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${unit}`)
const fmtNum = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2))
const mib = (b) => (b == null ? '' : `${Math.round(b / 2 ** 20)} MiB`)

export function markdown(rows, meta, targets, svgName) {
  const load = (l) => l.map((v) => v.toFixed(2)).join(' / ')
  const lines = []
  lines.push(`Measured ${meta.date.slice(0, 16).replace('T', ' ')} UTC by \`npm run bench${meta.quick ? ' -- --quick' : meta.issueSizes ? ' -- --issue-sizes' : ''}\` on ${meta.cpus}, ` +
    `${(meta.memoryBytes / GiB).toFixed(0)} GiB RAM, Node ${meta.node}; stowage ${meta.version} (${meta.commit}), addon: ${meta.native.profile} build ` +
    `\`${meta.native.source}\` (sha256 ${meta.native.sha})${meta.baseline ? `; stowage-baseline = ${meta.baseline.commit} (${meta.baseline.native.profile} build, sha256 ${meta.baseline.native.sha}), measured in the same run` : ''}; ${meta.server}. Load average (1/5/15 min) ${load(meta.loadBefore)} before, ${load(meta.loadAfter)} after — ` +
    `the machine's 2 cores are shared, and client and server share them. Median of ${meta.cfg.runs} runs, each in a fresh process after a warm-up, ` +
    `libraries interleaved; ${Math.round(meta.elapsedSeconds)} s in all. MB/s = 10⁶ bytes/s. CPU = the process's user + system seconds (every thread) per GiB ` +
    `or per 1 000 operations; server CPU = the same for the S3 server (crates/s3-mem-server, read from /proc) over the same span, which runs on the same 2 cores, so client and server CPU together bound a row. "vs stowage" = the row's median ÷ stowage's (below 1 = slower than stowage; for the event-loop delay, lower is better); "stowage ÷ row, per round" = how many times better stowage was within each round, the median over the rounds, which cancels the machine's drift between rounds. ` +
    `\`limit\` = curl making the same requests: the server's ceiling for large transfers; on small requests curl's \`--parallel\` is itself the limit, slower than the native clients (CPU and RSS are curl's). OpenDAL = \`opendal\` ${meta.opendal?.ok ? meta.opendal.version : 'not run'} ` +
    `(the newest release whose Linux binary loads on glibc 2.36). obstore = Python's \`obstore\` ${meta.obstore?.ok ? `${meta.obstore.version} (Python ${meta.obstore.python})` : 'not run'}, ` +
    `which runs each workload in its own Python process and times its own asyncio loop (bench/README.md); its CPU and RSS are that process's.`)
  lines.push('')
  lines.push('| Workload | Library | Median | Min – max | CPU | Server CPU | Peak RSS | vs stowage | stowage ÷ row, per round |')
  lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  let last = null
  for (const r of rows) {
    const title = r.workload === last ? '' : r.title
    last = r.workload
    if (r.median == null) { lines.push(`| ${title} | ${r.library} | ${r.status}${r.error ? `: ${r.error.replace(/\|/g, '/').slice(0, 120)}` : r.note ? ` (${r.note.slice(0, 80)})` : ''} | | | | | | |`); continue }
    const cpu = r.cpuSeconds == null ? '' : `${fmtNum(r.cpuSeconds)} ${r.cpuUnit}`
    const serverCpu = r.serverCpuSeconds == null ? '' : `${fmtNum(r.serverCpuSeconds)} ${r.cpuUnit}`
    const note = r.status === 'partial' ? ` (${r.failures} of ${r.runs + r.failures} runs failed)` : ''
    lines.push(`| ${title} | ${r.library === 'stowage' ? '**stowage**' : r.library}${note} | ${fmtRate(r.median, r.unit)} | ${fmtNum(r.min)} – ${fmtNum(r.max)} | ${cpu} | ${serverCpu} | ${mib(r.peakRssBytes)} | ${r.ratio == null ? '' : `${r.ratio.toFixed(2)}`} | ${r.pairedSpeedup == null || r.library === 'stowage' ? '' : x(r.pairedSpeedup)} |`)
  }
  lines.push('')
  lines.push('Targets (checked by the bench itself, from the rows above):')
  lines.push('')
  for (const t of targets) lines.push(`- ${t.met ? 'met' : '**missed**'} — ${t.target}: ${t.detail}`)
  lines.push('')
  lines.push(`![stowage's speed-up over each peer](bench/results/${svgName})`)
  return lines.join('\n')
}

export function svg(rows, meta) {
  // stowage's own variants (signUrl one at a time, unsigned payloads) are in the table, not the chart of peers
  const bars = rows.filter((r) => !r.library.startsWith('stowage') && r.speedup != null)
  const W = 1040; const left = 480; const right = 60; const rowH = 18; const top = 56
  const lo = Math.log10(0.05); const hi = Math.log10(50)
  const X = (v) => Math.round((left + ((Math.log10(Math.min(Math.max(v, 0.05), 50)) - lo) / (hi - lo)) * (W - left - right)) * 10) / 10
  const H = top + bars.length * rowH + 40
  const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="12" y="20" font-size="15" font-weight="bold">stowage's speed-up over each peer (log scale; right of 1× = stowage is faster)</text>`,
    `<text x="12" y="38" fill="#555">${esc(`${meta.quick ? 'quick run, ' : ''}${meta.cfg.runs} runs, median; ${meta.native.profile} build ${meta.native.sha}; ${meta.cpus}; ${meta.date.slice(0, 10)}. limit = curl (the server's ceiling on large transfers).`)}</text>`]
  for (const t of [0.1, 0.5, 1, 2, 3, 10]) {
    out.push(`<line x1="${X(t)}" y1="${top - 6}" x2="${X(t)}" y2="${top + bars.length * rowH}" stroke="${t === 1 ? '#000' : '#ddd'}" stroke-width="${t === 1 ? 1.5 : 1}"/>`)
    out.push(`<text x="${X(t)}" y="${top + bars.length * rowH + 16}" text-anchor="middle" fill="#333">${t}×</text>`)
  }
  let last = null
  bars.forEach((r, i) => {
    const y = top + i * rowH
    if (r.workload !== last && i) out.push(`<line x1="8" y1="${y}" x2="${W - 8}" y2="${y}" stroke="#eee"/>`)
    last = r.workload
    const x0 = X(1); const x1 = X(r.speedup)
    const colour = r.library === 'limit' ? '#9e9e9e' : r.speedup >= 1 ? '#2e7d32' : '#c62828'
    out.push(`<text x="${left - 8}" y="${y + 13}" text-anchor="end">${esc(`${r.title} — ${r.library}`)}</text>`)
    out.push(`<rect x="${Math.min(x0, x1)}" y="${y + 3}" width="${Math.max(1, Math.round(Math.abs(x1 - x0) * 10) / 10)}" height="${rowH - 6}" fill="${colour}"/>`)
    out.push(`<text x="${Math.max(x0, x1) + 4}" y="${y + 13}" fill="#333">${r.speedup.toFixed(2)}×</text>`)
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}

/** Replaces README.md's text between the bench markers (adding them under ## Performance if absent). */
export function writeReadme(file, md) {
  const START = '<!-- bench:start -->'; const END = '<!-- bench:end -->'
  let text = fs.readFileSync(file, 'utf8')
  const block = `${START}\n${md}\n${END}`
  const a = text.indexOf(START); const b = text.indexOf(END)
  if (a >= 0 && b > a) text = text.slice(0, a) + block + text.slice(b + END.length)
  else {
    const h = text.indexOf('\n## Performance')
    if (h < 0) text = `${text.trimEnd()}\n\n## Performance\n\n${block}\n`
    else {
      const next = text.indexOf('\n## ', h + 1)
      const at = next < 0 ? text.length : next
      text = `${text.slice(0, at).trimEnd()}\n\n${block}\n${next < 0 ? '' : `\n${text.slice(at + 1)}`}`
    }
  }
  fs.writeFileSync(file, text)
}
