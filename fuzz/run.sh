#!/usr/bin/env bash
# fuzz/run.sh TARGET [SECONDS]: one fuzz run, as docs/fuzzing.md describes.
# The corpus grows in fuzz/corpus/TARGET (not committed); the seeds in
# fuzz/seeds/TARGET are read, never written; crashes land in
# fuzz/artifacts/TARGET; the log in target/fuzz-logs/TARGET-<date>.log.
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?usage: fuzz/run.sh parse|resolve|pipeline|tree|modeldir|manifests [SECONDS]}
seconds=${2:-1800}
mkdir -p "corpus/$target" ../target/fuzz-logs
# The model targets share sec.dict; a script target has a dictionary of its own.
dict=sec.dict
[ -f "$target.dict" ] && dict=$target.dict
log=../target/fuzz-logs/$target-$(date +%Y%m%d-%H%M%S).log
echo "fuzzing $target for ${seconds}s; log: $log" >&2
# RUSTC_BOOTSTRAP lets a stable toolchain take cargo-fuzz's -Z flags.
RUSTC_BOOTSTRAP=1 nice -n 10 cargo fuzz run "$target" "corpus/$target" "seeds/$target" -- \
    -dict="$dict" -max_len=16384 -timeout=10 -rss_limit_mb=4096 \
    -max_total_time="$seconds" -print_final_stats=1 "${@:3}" >"$log" 2>&1
