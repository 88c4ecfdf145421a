#!/usr/bin/env bash
# Install the independent oracles that judge `palisade build` output into DIR
# (default: target/oracles). PyPI only; idempotent; safe to run concurrently.
#   DIR/venv          network-config-analyzer + kubernetes-validate  (tests/oracles/requirements-oracles.txt)
#   DIR/venv-checkov  checkov, whose pins clash with NCA's          (tests/oracles/requirements-checkov.txt)
# Each venv is (re)built only when missing, half-built, or its pinned
# requirements file changed. Adapted from shared/oracles/install.sh.
# Usage: scripts/install-oracles.sh [DIR]      (PYTHON=python3.x to pick an interpreter)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR=${1:-$ROOT/target/oracles}
PY=${PYTHON:-python3}
REQS="$ROOT/tests/oracles"

mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"

command -v "$PY" >/dev/null || { echo "install-oracles: no '$PY' on PATH (set PYTHON=...)" >&2; exit 1; }
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
  || { echo "install-oracles: $PY is $("$PY" --version 2>&1); need Python >= 3.10" >&2; exit 1; }
"$PY" -c 'import venv, ensurepip' 2>/dev/null \
  || { echo "install-oracles: $PY lacks the venv/ensurepip modules (Debian: apt-get install python3-venv)" >&2; exit 1; }

# One installer at a time (parallel test binaries, two cargo runs).
exec 9>"$DIR/.lock"
if command -v flock >/dev/null; then flock 9; fi

# install_venv NAME REQUIREMENTS PROBE: a venv whose stamp equals the requirements is current.
install_venv() {
  local name=$1 req=$2 probe=$3 venv="$DIR/$1"
  local stamp="$venv/.palisade-requirements.txt"
  if [ -x "$venv/bin/$probe" ] && cmp -s "$req" "$stamp"; then
    return 0
  fi
  echo "install-oracles: building $venv from $(basename "$req") (a few minutes the first time)" >&2
  rm -rf "$venv"
  "$PY" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req" >&2 \
    || { echo "install-oracles: pip install -r $req failed (see above)" >&2; rm -rf "$venv"; exit 1; }
  [ -x "$venv/bin/$probe" ] || { echo "install-oracles: $venv/bin/$probe missing after install" >&2; exit 1; }
  cp "$req" "$stamp"   # written last: an interrupted install is redone next time
}

install_venv venv "$REQS/requirements-oracles.txt" nca
install_venv venv-checkov "$REQS/requirements-checkov.txt" checkov

# Smoke test: each tool imports and runs.
"$DIR/venv/bin/python" -c 'import nca, kubernetes_validate, yaml, jsonschema' \
  || { echo "install-oracles: NCA/kubernetes-validate venv is broken; delete $DIR/venv and rerun" >&2; exit 1; }
"$DIR/venv-checkov/bin/checkov" --version >/dev/null \
  || { echo "install-oracles: checkov venv is broken; delete $DIR/venv-checkov and rerun" >&2; exit 1; }
echo "oracles ready in $DIR: ORACLES_VENV=$DIR/venv CHECKOV_VENV=$DIR/venv-checkov"
