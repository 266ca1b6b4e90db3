#!/usr/bin/env bash
# `cargo check` of the addon for Windows, from Linux: unix-only code (std::os::unix, ...) fails
# here in a minute instead of in the release build on a Windows runner.
#
#   bash scripts/windows-check.sh            # npm test: skipped, saying why, without the target
#   bash scripts/windows-check.sh --require  # the release workflow: the target must be there
#
# Needs the x86_64-pc-windows-gnu standard library (`rustup target add x86_64-pc-windows-gnu`)
# and a MinGW C compiler for the crates that build C (Debian: gcc-mingw-w64-x86-64). The standard
# library comes only from rustup's servers, not from crates.io, PyPI, npm or Debian, so a machine
# limited to those registries cannot run it; the workflow's windows-check job always does.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=x86_64-pc-windows-gnu
if [ ! -d "$(rustc --print sysroot)/lib/rustlib/$TARGET/lib" ]; then
  why="the $TARGET standard library is not installed (rustup target add $TARGET)"
  if [ "${1:-}" = "--require" ]; then
    echo "windows check: $why" >&2
    exit 1
  fi
  echo "windows check skipped: $why; the release workflow's windows-check job runs it"
  exit 0
fi
command -v x86_64-w64-mingw32-gcc >/dev/null || {
  echo "windows check: x86_64-w64-mingw32-gcc not found (Debian: apt-get install gcc-mingw-w64-x86-64)" >&2
  exit 1
}
cargo check -p stowage-node --target "$TARGET" --all-targets
