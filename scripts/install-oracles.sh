#!/usr/bin/env bash
# Install the independent oracles that judge `palisade build` output into DIR
# (default: target/oracles). PyPI only; idempotent; safe to run concurrently.
#   DIR/venv          network-config-analyzer + kubernetes-validate  (tests/oracles/requirements-oracles.txt)
#   DIR/venv-checkov  checkov, whose pins clash with NCA's          (tests/oracles/requirements-checkov.txt)
# A venv is (re)built only when it is missing, half-built, broken, or its
# pinned requirements file changed; otherwise this takes well under a second.
# Adapted from shared/oracles/install.sh. Used by tests/oracles.rs (docs/oracles.md).
# Usage: scripts/install-oracles.sh [DIR]      (PYTHON=python3.x picks the interpreter)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR=${1:-$ROOT/target/oracles}
PY=${PYTHON:-python3}
REQS="$ROOT/tests/oracles"

mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"

# One installer at a time (parallel test binaries, two cargo runs).
exec 9>"$DIR/.lock"
if command -v flock >/dev/null; then flock 9; fi

check_python() {
  command -v "$PY" >/dev/null || { echo "install-oracles: no '$PY' on PATH (set PYTHON=...)" >&2; exit 1; }
  "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
    || { echo "install-oracles: $PY is $("$PY" --version 2>&1); need Python >= 3.10" >&2; exit 1; }
  "$PY" -c 'import venv, ensurepip' 2>/dev/null \
    || { echo "install-oracles: $PY lacks the venv/ensurepip modules (Debian: apt-get install python3-venv)" >&2; exit 1; }
}

# install_venv NAME REQUIREMENTS SMOKE-TEST: current when its stamp equals the
# requirements and the smoke test (a Python statement) passes.
install_venv() {
  local name=$1 req=$2 smoke=$3 venv="$DIR/$1"
  local stamp="$venv/.palisade-requirements.txt"
  if cmp -s "$req" "$stamp" && "$venv/bin/python" -c "$smoke" 2>/dev/null; then
    return 0
  fi
  check_python
  echo "install-oracles: building $venv from $(basename "$req") (a few minutes the first time)" >&2
  rm -rf "$venv"
  "$PY" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req" >&2 \
    || { echo "install-oracles: pip install -r $req failed (see above)" >&2; rm -rf "$venv"; exit 1; }
  "$venv/bin/python" -c "$smoke" \
    || { echo "install-oracles: $venv does not work after installing $req" >&2; exit 1; }
  cp "$req" "$stamp"   # written last: an interrupted install is redone next time
}

install_venv venv "$REQS/requirements-oracles.txt" 'import nca, kubernetes_validate, yaml, jsonschema, referencing'
install_venv venv-checkov "$REQS/requirements-checkov.txt" 'import checkov.version'
[ -x "$DIR/venv-checkov/bin/checkov" ] || { echo "install-oracles: $DIR/venv-checkov/bin/checkov is missing" >&2; exit 1; }
echo "oracles ready in $DIR: ORACLES_VENV=$DIR/venv CHECKOV_VENV=$DIR/venv-checkov"
