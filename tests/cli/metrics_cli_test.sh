#!/usr/bin/env bash
# `txflow run FILE --http 127.0.0.1:0`: the daemon serves /metrics; a real
# scrape has the job's runs and passes `promtool check metrics`. Without
# promtool (Debian `prometheus`) or curl the script exits 77 (skipped), and
# fails under CI=true. Run by CTest (tools/CMakeLists.txt) as
#   metrics_cli_test.sh <path to the txflow binary>
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../support/cli_common.sh
source "$here/../support/cli_common.sh"

fail() {
    failures=$((failures + 1))
    printf 'FAIL: %s\n' "$1"
    [ -n "${2:-}" ] && [ -f "$2" ] && sed 's/^/  | /' "$2"
}

for tool in promtool curl; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        if [ "${CI:-}" = "true" ]; then
            echo "FAIL: $tool not found (install the Debian packages prometheus and curl: scripts/lib/deps.sh)"
            exit 1
        fi
        echo "SKIPPED: $tool not found (Debian packages prometheus, curl)"
        exit 77
    fi
done

# ---------------------------------------------------------------- a bad address
run run /dev/null --http nonsense
if [ "$rc" -eq 2 ] && [[ "$err" == *"--http: 'nonsense': expected HOST:PORT"* ]]; then
    pass "--http with a bad address: exit 2 and why"
else
    fail "bad --http: rc=$rc err=$err"
fi

# ---------------------------------------------------------------- a real scrape
cat >"$tmp/metrics.json" <<'JSON'
{"version": 1, "jobs": [
  {"name": "tick", "cron": "* * * * * *", "command": {"argv": ["true"]}},
  {"name": "sour", "cron": "* * * * * *", "command": {"argv": ["false"]}}]}
JSON
"$TXFLOW" run "$tmp/metrics.json" --for 20s --drain 1s --http 127.0.0.1:0 >"$tmp/daemon.log" 2>&1 &
pid=$!
pids+=("$pid")

# The daemon logs the port it bound ("serving metrics on http://127.0.0.1:PORT/metrics").
url=""
for _ in $(seq 1 100); do
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/metrics' "$tmp/daemon.log" 2>/dev/null | head -1)
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || fail "no 'serving metrics on' line" "$tmp/daemon.log"

# Scrape until both jobs have ended a run (bounded: 10 s).
scraped=0
if [ -n "$url" ]; then
    for _ in $(seq 1 100); do
        if curl -sf "$url" -o "$tmp/scrape.txt" &&
            grep -q '^txflow_job_runs_total{job="tick",queue="default",outcome="succeeded"} [1-9]' "$tmp/scrape.txt" &&
            grep -q '^txflow_job_runs_total{job="sour",queue="default",outcome="failed"} [1-9]' "$tmp/scrape.txt"; then
            scraped=1
            break
        fi
        sleep 0.1
    done
fi
if [ "$scraped" -eq 1 ]; then
    pass "the scrape shows the command jobs' runs by outcome"
else
    fail "no scrape with both jobs' runs" "$tmp/scrape.txt"
fi

if [ "$scraped" -eq 1 ]; then
    if promtool check metrics <"$tmp/scrape.txt" >"$tmp/promtool.out" 2>&1; then
        pass "promtool check metrics accepts the real scrape"
    else
        fail "promtool check metrics" "$tmp/promtool.out"
    fi
    for family in txflow_job_run_duration_seconds_bucket txflow_job_fire_lateness_seconds_count \
        'txflow_queue_depth{queue="default"}' txflow_store_batch_records_count; do
        grep -qF "$family" "$tmp/scrape.txt" || fail "the scrape lacks $family" "$tmp/scrape.txt"
    done
    headers=$(curl -sf -D - -o /dev/null "$url")
    case "$headers" in
        *"Content-Type: text/plain; version=0.0.4; charset=utf-8"*) pass "Content-Type is the 0.0.4 text format" ;;
        *) fail "Content-Type: $headers" ;;
    esac
    code=$(curl -s -o /dev/null -w '%{http_code}' "${url%/metrics}/nope")
    [ "$code" = "404" ] && pass "an unknown path gets 404" || fail "unknown path: HTTP $code"
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url")
    [ "$code" = "405" ] && pass "POST /metrics gets 405" || fail "POST /metrics: HTTP $code"
fi

kill -TERM "$pid" 2>/dev/null
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
    fail "the daemon did not exit within 10 s of SIGTERM" "$tmp/daemon.log"
else
    wait "$pid"
    rc=$?
    [ "$rc" -eq 0 ] && pass "SIGTERM: the daemon and its server stop, exit 0" || fail "exit $rc after SIGTERM" "$tmp/daemon.log"
fi

finish "metrics CLI: all checks passed"
