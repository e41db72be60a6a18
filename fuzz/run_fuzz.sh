#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz and runs
# cron_parse_fuzz for ${1:-60} seconds on the seed corpus.
# Then (first, in fact) wal_record_fuzz for as long on fuzz/corpus/wal, and
# (second) schedule_file_fuzz on fuzz/corpus/schedule.
#
#   fuzz/run_fuzz.sh [seconds] [extra libFuzzer flags...]
#
# The committed corpus (fuzz/corpus/cron) is only read: the fuzzer writes new
# inputs into a temporary copy (kept when KEEP_CORPUS=1) and crash/timeout
# reproducers into build-fuzz/artifacts/. Reproduce one with
#   build-fuzz/fuzz/cron_parse_fuzz build-fuzz/artifacts/crash-...
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build-fuzz}"
seconds="${1:-60}"
shift || true

CC=clang CXX=clang++ cmake -S "$root" -B "$build" \
    -DTXFLOW_BUILD_FUZZ=ON -DTXFLOW_BUILD_TESTS=OFF \
    -DTXFLOW_BUILD_TOOLS=OFF -DTXFLOW_BUILD_EXAMPLES=OFF -DTXFLOW_BUILD_BENCH=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target cron_parse_fuzz -j"$(nproc)"

work="$(mktemp -d "${TMPDIR:-/tmp}/txflow-cron-corpus.XXXXXX")"
if [[ "${KEEP_CORPUS:-0}" == 1 ]]; then
    echo "run_fuzz.sh: working corpus kept in $work"
else
    trap 'rm -rf "$work"' EXIT
fi
cp "$root"/fuzz/corpus/cron/* "$work"/
mkdir -p "$build/artifacts"

# UB and leaks are findings, not warnings.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"

# The WAL segment reader first, for the same time, on a scratch copy of
# fuzz/corpus/wal (reproduce with build-fuzz/fuzz/wal_record_fuzz <artifact>).
if [[ -f "$root/fuzz/wal_record_fuzz.cpp" ]]; then
    cmake --build "$build" --target wal_record_fuzz -j"$(nproc)"
    wal_work="$(mktemp -d "${TMPDIR:-/tmp}/txflow-wal-corpus.XXXXXX")"
    if [[ "${KEEP_CORPUS:-0}" == 1 ]]; then
        echo "run_fuzz.sh: WAL working corpus kept in $wal_work"
    else
        trap 'rm -rf "$work" "$wal_work"' EXIT
    fi
    cp "$root"/fuzz/corpus/wal/* "$wal_work"/
    "$build/fuzz/wal_record_fuzz" \
        -max_total_time="$seconds" \
        -timeout=10 \
        -max_len=4096 \
        -artifact_prefix="$build/artifacts/" \
        -print_final_stats=1 \
        "$@" \
        "$wal_work"
fi

# Then the schedule-file loader, for the same time, on a scratch copy of
# fuzz/corpus/schedule (examples/*.json and edge cases); it runs second, so
# .ci/run finds its stats second in the log.
if [[ -f "$root/fuzz/schedule_file_fuzz.cpp" ]]; then
    cmake --build "$build" --target schedule_file_fuzz -j"$(nproc)"
    schedule_work="$(mktemp -d "${TMPDIR:-/tmp}/txflow-schedule-corpus.XXXXXX")"
    if [[ "${KEEP_CORPUS:-0}" == 1 ]]; then
        echo "run_fuzz.sh: schedule-file working corpus kept in $schedule_work"
    else
        trap 'rm -rf "$work" "${wal_work:-}" "$schedule_work"' EXIT
    fi
    cp "$root"/fuzz/corpus/schedule/* "$schedule_work"/
    "$build/fuzz/schedule_file_fuzz" \
        -max_total_time="$seconds" \
        -timeout=10 \
        -max_len=16384 \
        -artifact_prefix="$build/artifacts/" \
        -print_final_stats=1 \
        "$@" \
        "$schedule_work"
fi

"$build/fuzz/cron_parse_fuzz" \
    -max_total_time="$seconds" \
    -timeout=10 \
    -max_len=512 \
    -dict="$root/fuzz/cron.dict" \
    -artifact_prefix="$build/artifacts/" \
    -print_final_stats=1 \
    "$@" \
    "$work"
