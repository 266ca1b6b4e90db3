// Workload sizes. `npm run bench` uses DEFAULTS; `npm run bench -- --quick` uses QUICK.
// Every size can be overridden on the command line, e.g. `--large-mib 64 --runs 7`.
const MiB = 1024 * 1024
const KiB = 1024

// The sizes issue 5 names. `npm run bench -- --issue-sizes` runs exactly these.
export const ISSUE = {
  runs: 5, // measured runs per (library, workload); each in a fresh process, after a warm-up
  largeBytes: 256 * MiB, // S3: one object up and down
  smallCount: 5000, // S3 and memory: objects put then get
  smallBytes: 16 * KiB,
  smallConcurrency: 64,
  rangeCount: 5000, // S3: range reads of the first rangeBytes of one object
  rangeBytes: 16 * KiB,
  rangeConcurrency: 256,
  // obstore's own published workload (geospatial-jeff/pyasyncio-benchmark, cog_header): the first
  // rangeBytes (16 KiB) of one object, 500 requests in flight; issue 12 asks for it
  cogCount: 5000,
  cogConcurrency: 500,
  listCount: 10000, // S3: keys listed
  // listings of those keys per measured run: one listing of 10 000 keys lasts under 0.1 s, so
  // a single one per fresh process swung 3x from run to run (JIT and GC warm-up dominate)
  listRounds: 5,
  presignCount: 100000, // GET URLs presigned
  localSmallCount: 10000, // local disk: files put then get
  localSmallBytes: 4 * KiB,
  localConcurrency: 64,
  localLargeBytes: 1024 * MiB, // local disk: one file put and get (streamed)
  localBufferBytes: 128 * MiB, // local disk: one Buffer put, then read back whole (issue 12)
  timeoutSec: 600, // per measured process
  // the small-operation rows (put, get, range reads; S3, local, memory) make exactly their count
  // of calls here; the default run goes on round the same keys until this many seconds have
  // passed (bench/util.mjs timedPool)
  minRunSeconds: 0,
}

// The default: the issue's sizes except presigning, where 100 000 URLs take the AWS SDK ~20 s
// per run (×5 runs, ×2 with flydrive); 10 000 keep the full run under 10 minutes on 2 cores.
export const DEFAULTS = {
  ...ISSUE,
  presignCount: 10000,
  timeoutSec: 300,
  // 5000 operations last under 0.4 s for stowage, OpenDAL and obstore: in one fresh process
  // that swung gets from 11 000 to 19 000 ops/s, too wide to tell 1.2x (issue 12)
  minRunSeconds: 2,
}

export const QUICK = {
  ...DEFAULTS,
  runs: 3,
  largeBytes: 24 * MiB,
  smallCount: 200,
  rangeCount: 300,
  cogCount: 1000,
  listCount: 1000,
  listRounds: 3,
  presignCount: 2000,
  localSmallCount: 1000,
  localLargeBytes: 32 * MiB,
  minRunSeconds: 0.5,
  timeoutSec: 120,
}

/** @type {Record<string, [name: string, multiplier: number]>} command-line flag -> [config key, multiplier] */
export const FLAGS = {
  '--runs': ['runs', 1],
  '--large-mib': ['largeBytes', MiB],
  '--small-count': ['smallCount', 1],
  '--small-kib': ['smallBytes', KiB],
  '--small-concurrency': ['smallConcurrency', 1],
  '--range-count': ['rangeCount', 1],
  '--range-kib': ['rangeBytes', KiB],
  '--range-concurrency': ['rangeConcurrency', 1],
  '--cog-count': ['cogCount', 1],
  '--cog-concurrency': ['cogConcurrency', 1],
  '--list-count': ['listCount', 1],
  '--list-rounds': ['listRounds', 1],
  '--presign-count': ['presignCount', 1],
  '--local-small-count': ['localSmallCount', 1],
  '--local-small-kib': ['localSmallBytes', KiB],
  '--local-concurrency': ['localConcurrency', 1],
  '--local-large-mib': ['localLargeBytes', MiB],
  '--local-buffer-mib': ['localBufferBytes', MiB],
  '--timeout': ['timeoutSec', 1],
  '--min-seconds': ['minRunSeconds', 1],
}

// Dependencies the bench needs that the package itself does not: installed on first run into
// bench/.deps (gitignored). opendal is pinned to 0.49.2, the newest release whose
// linux-x64-gnu binary needs no more than glibc 2.16 (0.49.3 and later need glibc 2.38).
export const BENCH_DEPS = { opendal: '0.49.2' }

// The Python peers, from PyPI into the virtualenv the bench makes on first run (bench/.deps/venv,
// setup.mjs ensurePython): obstore, the Python binding of the same object_store crate stowage is
// built on, at the release issue 12 measured (the newest on PyPI when it was pinned).
export const BENCH_PY_DEPS = { obstore: '0.12.1' }
