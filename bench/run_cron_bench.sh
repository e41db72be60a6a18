#!/usr/bin/env bash
# Builds cron_bench in Release (build-bench) and runs it on the expression sets:
# typical.txt in UTC (and its own CRON_TZ= prefixes), dst.txt in New York and Berlin.
#
#   bench/run_cron_bench.sh [extra cron_bench flags, e.g. --per-expr]
#
# Copy the figures into bench/RESULTS.md together with the machine and date.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build-bench}"

cmake -S "$root" -B "$build" -DTXFLOW_BUILD_BENCH=ON -DCMAKE_BUILD_TYPE=Release \
    -DTXFLOW_BUILD_TESTS=OFF -DTXFLOW_BUILD_EXAMPLES=OFF -DTXFLOW_BUILD_TOOLS=OFF >/dev/null
cmake --build "$build" --target cron_bench -j"$(nproc)"

bench="$build/bench/cron_bench"
exprs="$root/bench/exprs"

echo "# machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; date: $(date -u +%F)"
echo "## typical.txt, UTC"
"$bench" --exprs "$exprs/typical.txt" "$@"
for zone in America/New_York Europe/Berlin; do
    echo "## dst.txt, --zone $zone"
    "$bench" --exprs "$exprs/dst.txt" --zone "$zone" "$@"
done
