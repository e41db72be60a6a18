#!/usr/bin/env bash
# Burst dispatch (issue 15), txflow and robfig/cron v3 side by side in one run:
# builds burst_bench in Release (build-bench) and, when `go` is present, the Go
# program in bench/robfig/ against Debian's golang-github-robfig-cron-dev
# (offline, GOPATH mode); then runs them one after the other, `rounds` times
# each (default 3), with the load average before each run.
#
#   bench/run_burst_bench.sh [rounds]
#
# Copy the figures into bench/RESULTS.md together with the machine and date.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(realpath -m "${BUILD_DIR:-$root/build-bench}")"  # absolute: GOCACHE must be
rounds="${1:-3}"

cmake -S "$root" -B "$build" -DTXFLOW_BUILD_BENCH=ON -DCMAKE_BUILD_TYPE=Release \
    -DTXFLOW_BUILD_TESTS=OFF -DTXFLOW_BUILD_EXAMPLES=OFF -DTXFLOW_BUILD_TOOLS=OFF >/dev/null
cmake --build "$build" --target burst_bench -j"$(nproc)"

robfig=""
if command -v go >/dev/null && [ -d /usr/share/gocode/src/github.com/robfig/cron ]; then
    robfig="$build/bench/robfig_burst"
    (cd "$root/bench/robfig" && GO111MODULE=off GOPATH=/usr/share/gocode \
        GOCACHE="$build/go-cache" go build -o "$robfig" .)
else
    echo "# go or golang-github-robfig-cron-dev missing: txflow only" >&2
fi

echo "# machine: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cores; date: $(date -u '+%F %T') UTC"
for i in $(seq "$rounds"); do
    echo "## round $i, load:$(uptime | sed 's/.*load average://')"
    "$build/bench/burst_bench"
    if [ -n "$robfig" ]; then "$robfig"; fi
done
