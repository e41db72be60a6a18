#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz and runs
# each for ${1:-60} seconds on its seed corpus, in this order:
# wal_record_fuzz (fuzz/corpus/wal), schedule_file_fuzz (fuzz/corpus/schedule),
# cron_parse_fuzz (fuzz/corpus/cron, with fuzz/cron.dict).
#
#   fuzz/run_fuzz.sh [seconds] [extra libFuzzer flags...]
#
# The committed corpora are only read: each fuzzer writes new inputs into a
# temporary copy (kept when KEEP_CORPUS=1) and crash/timeout reproducers into
# build-fuzz/artifacts/. Reproduce one with
#   build-fuzz/fuzz/cron_parse_fuzz build-fuzz/artifacts/crash-...
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build-fuzz}"
seconds="${1:-60}"
shift || true

CC=clang CXX=clang++ cmake -S "$root" -B "$build" \
    -DTXFLOW_BUILD_FUZZ=ON -DTXFLOW_BUILD_TESTS=OFF \
    -DTXFLOW_BUILD_TOOLS=OFF -DTXFLOW_BUILD_EXAMPLES=OFF -DTXFLOW_BUILD_BENCH=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
    -DTXFLOW_UNITY_BUILD=ON >/dev/null

mkdir -p "$build/artifacts"
scratch=()
if [[ "${KEEP_CORPUS:-0}" != 1 ]]; then
    trap 'rm -rf "${scratch[@]}"' EXIT
fi

# UB and leaks are findings, not warnings.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"

# fuzz TARGET CORPUS MAX_LEN [flags...]: builds TARGET and runs it for $seconds
# on a scratch copy of fuzz/corpus/CORPUS (reproduce a finding with
# build-fuzz/fuzz/TARGET build-fuzz/artifacts/crash-...).
fuzz() {
    local target="$1" corpus="$2" max_len="$3"
    shift 3
    cmake --build "$build" --target "$target" -j"$(nproc)"
    local work
    work="$(mktemp -d "${TMPDIR:-/tmp}/txflow-$corpus-corpus.XXXXXX")"
    scratch+=("$work")
    [[ "${KEEP_CORPUS:-0}" == 1 ]] && echo "run_fuzz.sh: $target's working corpus kept in $work"
    cp "$root/fuzz/corpus/$corpus"/* "$work"/
    "$build/fuzz/$target" \
        -max_total_time="$seconds" \
        -timeout=10 \
        -max_len="$max_len" \
        -artifact_prefix="$build/artifacts/" \
        -print_final_stats=1 \
        "$@" \
        "$work"
}

# The order matters to .ci/run, which reads the stats in the log in this order:
# the WAL segment reader, the schedule-file loader, then the cron parser.
if [[ -f "$root/fuzz/wal_record_fuzz.cpp" ]]; then
    fuzz wal_record_fuzz wal 4096 "$@"
fi
if [[ -f "$root/fuzz/schedule_file_fuzz.cpp" ]]; then
    fuzz schedule_file_fuzz schedule 16384 "$@"
fi
fuzz cron_parse_fuzz cron 512 -dict="$root/fuzz/cron.dict" "$@"
