#!/usr/bin/env bash
# Rebuilds the fuzz seed corpora in fuzz/seeds/<target>/ from the repository's
# models. The synthetic models (synth-*.sec) are written by
# `PALISADE_WRITE_FUZZ_SEEDS=1 cargo test --test synth fuzz_seeds` and kept.
set -euo pipefail
cd "$(dirname "$0")/../.."
seed() { # target file
    local name
    name=$(echo "$2" | sed 's#^\./##; s#/#__#g')
    cp "$2" "fuzz/seeds/$1/$name"
}
for t in parse resolve pipeline; do
    mkdir -p "fuzz/seeds/$t"
    find "fuzz/seeds/$t" -type f ! -name 'synth-*' -delete
done
# Every model, valid or not, for the front end.
while IFS= read -r f; do
    seed parse "$f"
    seed resolve "$f"
done < <(find examples tests/corpus tests/oracles/models tests/corpus_seed.sec -name '*.sec' | sort)
# Models that compile, for the pipeline (invalid ones stop before generation).
while IFS= read -r f; do
    seed pipeline "$f"
done < <(find examples tests/corpus/valid tests/corpus/lints tests/oracles/models tests/corpus_seed.sec -name '*.sec' | sort)
