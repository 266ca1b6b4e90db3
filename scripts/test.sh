#!/usr/bin/env bash
# The whole test suite: Rust checks, the addon build, the emulators, then vitest.
# Usage: npm test  (extra arguments go to vitest, e.g. `npm test -- __test__/local.test.ts`)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "npm packages"
if [ ! -d node_modules/.bin ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund
fi

step "Rust: format, lint, unit tests"
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
cargo test

step "native addon (debug build; cargo rebuilds only what changed)"
node scripts/build-native.mjs

step "emulators (S3, GCS, Azure, WebDAV) into .tools/"
bash scripts/install-tools.sh

step "vitest (starts the emulators; databases at 127.0.0.1:5432 and :3306)"
npx vitest run "$@"
