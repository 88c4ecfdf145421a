#!/usr/bin/env bash
# Regenerate the pictures of docs/review.md (docs/img/) from the examples:
# `palisade graph` as DOT through Graphviz, as Mermaid through Mermaid's CLI
# (tests/oracles/bin/mermaid-validate --png), then pngquant (Debian package)
# when it is there, to keep each PNG small.
# Usage: scripts/render-docs-images.sh     (installs the graph oracles if needed)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/docs/img"
cd "$ROOT"
bash scripts/install-oracles.sh target/oracles graphviz mermaid >&2
command -v pngquant >/dev/null || {
  echo "render-docs-images: pngquant is missing (Debian: apt-get install pngquant)" >&2
  exit 2
}
cargo build --quiet --release
P=target/release/palisade
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT"

# name | arguments of `palisade graph`
DOT_CASES=(
  "marketing|examples/marketing.sec"
  "marketing-effective|examples/marketing.sec --effective"
  "webshop|examples/webshop.sec"
  "webshop-effective-prod|examples/webshop.sec --effective --env prod"
  "platform-prod|examples/platform --env prod"
  "platform-focus-payments-db|examples/platform --focus payments-db --depth 2"
)
MERMAID_CASES=(
  "marketing-mermaid|examples/marketing.sec"
  "platform-focus-search-mermaid|examples/platform --focus search --env staging"
)

for c in "${DOT_CASES[@]}"; do
  name=${c%%|*}
  # shellcheck disable=SC2086 # the arguments are words
  "$P" graph ${c#*|} > "$TMP/$name.dot"
  dot -Tpng -Gdpi=96 "$TMP/$name.dot" -o "$OUT/$name.png"
done
files=()
for c in "${MERMAID_CASES[@]}"; do
  name=${c%%|*}
  # shellcheck disable=SC2086
  "$P" graph ${c#*|} --format mermaid > "$TMP/$name.mmd"
  files+=("$TMP/$name.mmd")
done
bash tests/oracles/bin/mermaid-validate --png "$OUT" "${files[@]}"

for f in "$OUT"/*.png; do
  pngquant --quality=60-90 --speed 1 --force --output "$f" "$f"
done
ls -l "$OUT"
