#!/usr/bin/env bash
# End-to-end checks of `txflow run` with the daemon as a child process: fires
# within --for, SIGTERM drains and exits 0, SIGHUP reloads (adds, removes,
# refuses an invalid file), a hanging command is stopped by its timeout, JSON
# log lines, and kill -9 in the middle of a saga followed by a restart that
# resumes (or compensates) it from the write-ahead log. Run by CTest
# (tools/CMakeLists.txt) as
#   daemon_cli_test.sh <path to the txflow binary>
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../support/cli_common.sh
source "$here/../support/cli_common.sh"

# fail MESSAGE [LOG]: no run to show here; the daemon's log instead, if given.
fail() {
    failures=$((failures + 1))
    printf 'FAIL: %s\n' "$1"
    [ -n "${2:-}" ] && [ -f "$2" ] && sed 's/^/  | /' "$2"
}

# wait_for FILE PATTERN [SECONDS]: until grep -q finds PATTERN (fixed string) in FILE.
wait_for() {
    local file="$1" pattern="$2" limit="${3:-10}" i=0
    while [ "$i" -lt $((limit * 10)) ]; do
        grep -qF -- "$pattern" "$file" 2>/dev/null && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# wait_exit PID [SECONDS]: the daemon's exit status, or 124 if it is still running.
wait_exit() {
    local pid="$1" limit="${2:-10}" i=0
    while kill -0 "$pid" 2>/dev/null && [ "$i" -lt $((limit * 10)) ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then return 124; fi
    wait "$pid"
}

count() { grep -cF -- "$2" "$1" 2>/dev/null || true; }

# ---------------------------------------------------------------- fires within --for
cat >"$tmp/fires.json" <<'JSON'
{"version": 1, "jobs": [
  {"name": "tick", "cron": "* * * * * *", "command": {"argv": ["sh", "-c", "echo tick $TXFLOW_FIRE_TIME"]}}]}
JSON
start=$(date +%s%N)
"$TXFLOW" run "$tmp/fires.json" --for 3s >"$tmp/fires.log" 2>&1
rc=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
ticks=$(count "$tmp/fires.log" "[tick] stdout: tick ")
if [ "$rc" -eq 0 ] && [ "$ticks" -ge 2 ] && [ "$ticks" -le 4 ] && [ "$elapsed_ms" -lt 6000 ] &&
    grep -qF -- "--for 3s elapsed" "$tmp/fires.log" && grep -qF "info  stopped" "$tmp/fires.log"; then
    pass "a per-second cron job fires $ticks times in --for 3s, then the daemon drains and exits 0"
else
    fail "fires: rc=$rc ticks=$ticks elapsed=${elapsed_ms}ms" "$tmp/fires.log"
fi

# ---------------------------------------------------------------- SIGTERM and SIGINT drain, exit 0
cat >"$tmp/drain.json" <<'JSON'
{"version": 1, "jobs": [
  {"name": "work", "every": "200ms", "policies": {"overlap": "skip"},
   "command": {"argv": ["sh", "-c", "echo begin; sleep 1; echo end"]}}]}
JSON
for sig in TERM INT; do
    "$TXFLOW" run "$tmp/drain.json" >"$tmp/drain-$sig.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    if ! wait_for "$tmp/drain-$sig.log" "[work] stdout: begin" 5; then
        fail "SIG$sig: the job never started" "$tmp/drain-$sig.log"
        continue
    fi
    kill -"$sig" "$pid"
    wait_exit "$pid" 10
    rc=$?
    # The run in progress finishes (drain), nothing new starts.
    if [ "$rc" -eq 0 ] && grep -qF "SIG$sig: shutting down" "$tmp/drain-$sig.log" &&
        grep -qF "[work] stdout: end" "$tmp/drain-$sig.log" && grep -qF "info  stopped" "$tmp/drain-$sig.log"; then
        pass "SIG$sig drains the running command and exits 0"
    else
        fail "SIG$sig: rc=$rc" "$tmp/drain-$sig.log"
    fi
done

# ---------------------------------------------------------------- SIGHUP reload
cat >"$tmp/reload.json" <<'JSON'
{"version": 1, "jobs": [
  {"name": "alpha", "every": "200ms", "command": {"argv": ["echo", "alpha"]}},
  {"name": "stay", "every": "200ms", "command": {"argv": ["echo", "stay"]}}]}
JSON
"$TXFLOW" run "$tmp/reload.json" >"$tmp/reload.log" 2>&1 &
pid=$!
pids+=("$pid")
if wait_for "$tmp/reload.log" "[alpha] stdout: alpha" 5; then
    cat >"$tmp/reload.json" <<'JSON'
{"version": 1, "jobs": [
  {"name": "stay", "every": "200ms", "command": {"argv": ["echo", "stay"]}},
  {"name": "beta", "every": "200ms", "command": {"argv": ["echo", "beta"]}}]}
JSON
    kill -HUP "$pid"
    if wait_for "$tmp/reload.log" "reloaded $tmp/reload.json: added beta; removed alpha; replaced -; 1 unchanged" 5 &&
        wait_for "$tmp/reload.log" "[beta] stdout: beta" 5; then
        # No alpha run starts after the reload line.
        after=$(sed -n '/reloaded /,$p' "$tmp/reload.log" | grep -cF "[alpha] started" || true)
        if [ "$after" -eq 0 ]; then pass "SIGHUP adds beta and removes alpha; stay keeps running"; else
            fail "alpha still fires after the reload" "$tmp/reload.log"; fi
    else
        fail "SIGHUP reload did not apply" "$tmp/reload.log"
    fi
    printf '{"version": 1, "jobs": [{"name": "x", "every": "never", "command": {"argv": ["true"]}}]}' >"$tmp/reload.json"
    kill -HUP "$pid"
    if wait_for "$tmp/reload.log" "refused: 1 problem(s); the running schedule is kept" 5 &&
        wait_for "$tmp/reload.log" "/jobs/0/every: expected a number at \"never\"" 2; then
        n=$(count "$tmp/reload.log" "[beta] stdout: beta")
        sleep 0.6
        if [ "$(count "$tmp/reload.log" "[beta] stdout: beta")" -gt "$n" ] && kill -0 "$pid" 2>/dev/null; then
            pass "SIGHUP with an invalid file logs the problems and keeps the running schedule"
        else
            fail "the running schedule stopped after an invalid reload" "$tmp/reload.log"
        fi
    else
        fail "an invalid reload was not reported" "$tmp/reload.log"
    fi
    kill -TERM "$pid"
    wait_exit "$pid" 10 || fail "reload daemon: exit after SIGTERM" "$tmp/reload.log"
else
    fail "reload: alpha never fired" "$tmp/reload.log"
fi

# ---------------------------------------------------------------- timeout stops a hanging command
marker="sleep 97.$$"
cat >"$tmp/hang.json" <<JSON
{"version": 1, "jobs": [
  {"name": "hang", "every": "500ms", "policies": {"timeout": "300ms", "overlap": "skip"},
   "command": {"argv": ["sh", "-c", "echo hanging; exec $marker"]}}]}
JSON
start=$(date +%s%N)
"$TXFLOW" run "$tmp/hang.json" --for 1500ms --drain 0s >"$tmp/hang.log" 2>&1
rc=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
timeouts=$(count "$tmp/hang.log" "job 'hang' attempt 1 timed_out")
if [ "$rc" -eq 0 ] && [ "$timeouts" -ge 1 ] && [ "$elapsed_ms" -lt 5000 ] && ! pgrep -f "$marker" >/dev/null; then
    pass "a hanging command is stopped by its timeout ($timeouts times), nothing is left running"
else
    fail "hang: rc=$rc timeouts=$timeouts elapsed=${elapsed_ms}ms left=$(pgrep -f "$marker" | tr '\n' ' ')" "$tmp/hang.log"
fi

# ---------------------------------------------------------------- JSON lines
"$TXFLOW" run "$tmp/fires.json" --for 1500ms --log-format json >"$tmp/json.log" 2>&1
rc=$?
bad=$(grep -cvE '^\{"time":"[0-9T:.-]+Z","level":"[a-z]+","msg":.*\}$' "$tmp/json.log" || true)
if [ "$rc" -eq 0 ] && [ "$bad" -eq 0 ] && grep -qF '"job":"tick","stream":"stdout"' "$tmp/json.log"; then
    pass "--log-format json writes one JSON object per line, with job and stream fields"
else
    fail "json: rc=$rc, $bad line(s) not JSON objects" "$tmp/json.log"
fi

# ---------------------------------------------------------------- an invalid file does not start
printf '{"version": 1, "jobs": [{"name": "a", "cron": "61 * * * *", "command": {"argv": ["true"]}}]}' >"$tmp/bad.json"
"$TXFLOW" run "$tmp/bad.json" --for 1s >"$tmp/bad.out" 2>"$tmp/bad.err"
rc=$?
if [ "$rc" -eq 1 ] && [ ! -s "$tmp/bad.out" ] &&
    [ "$(cat "$tmp/bad.err")" = "/jobs/0/cron: minute (field 1, col 1): 61 is out of range 0-59
txflow: $tmp/bad.json: 1 problem" ]; then
    pass "run refuses an invalid file: exit 1, the problems on stderr"
else
    fail "run with an invalid file: rc=$rc" "$tmp/bad.err"
fi
"$TXFLOW" run "$tmp/fires.json" --for soon >/dev/null 2>"$tmp/usage.err"
rc=$?
if [ "$rc" -eq 2 ] && grep -qF -- '--for: expected a number at "soon"' "$tmp/usage.err"; then
    pass "a bad --for is a usage error"
else
    fail "--for soon: rc=$rc" "$tmp/usage.err"
fi

# ---------------------------------------------------------------- kill -9 mid-saga, restart
# The saga's second step is slow; the daemon is killed with SIGKILL while it
# runs. Restarted on the same state directory, the saga resumes: the
# interrupted step runs again with the same idempotency key, then the last.
# With on_recovery "compensate" the completed first step is undone instead.
saga_test() {
    local mode="$1" dir="$tmp/saga-$1"
    mkdir -p "$dir"
    # The fire is 2-3 s away; should the daemon start later than that on a
    # loaded machine, misfire fire_once still runs it once (not twice: the
    # restart finds its fire recorded).
    local at
    at=$(date -u -d '+3 seconds' +%Y-%m-%dT%H:%M:%SZ)
    cat >"$dir/saga.json" <<JSON
{"version": 1, "state_dir": "state",
 "jobs": [{"name": "order", "at": "$at", "misfire": "fire_once", "saga": "checkout", "input": {"order": 1}}],
 "sagas": [{"name": "checkout", "on_recovery": "$mode", "steps": [
   {"name": "reserve", "command": {"argv": ["sh", "-c", "echo reserved >>'$dir/effects'"]},
    "compensate": {"argv": ["sh", "-c", "echo released >>'$dir/effects'"]}},
   {"name": "charge", "command": {"argv": ["sh", "-c", "echo \"charge \$TXFLOW_IDEMPOTENCY_KEY\" >>'$dir/effects'; echo charging; sleep 3"]},
    "compensate": {"argv": ["sh", "-c", "echo refunded >>'$dir/effects'"]}},
   {"name": "ship", "command": {"argv": ["sh", "-c", "echo shipped >>'$dir/effects'"]}, "no_compensation": true}]}]}
JSON
    "$TXFLOW" run "$dir/saga.json" >"$dir/first.log" 2>&1 &
    local pid=$!
    pids+=("$pid")
    if ! wait_for "$dir/first.log" "/charge] stdout: charging" 20; then
        fail "saga ($mode): the slow step never started" "$dir/first.log"
        return
    fi
    kill -9 "$pid"
    wait "$pid" 2>/dev/null
    "$TXFLOW" run "$dir/saga.json" --for 8s >"$dir/second.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    local want
    if [ "$mode" = resume ]; then want="saga running->succeeded"; else want="saga compensating->compensated"; fi
    if ! wait_for "$dir/second.log" "$want" 10; then
        fail "saga ($mode): not finished after the restart (wanted: $want)" "$dir/second.log"
        kill -TERM "$pid" 2>/dev/null
        return
    fi
    kill -TERM "$pid"
    wait_exit "$pid" 10
    local effects keys
    effects=$(sed 's/ .*//' "$dir/effects" | tr '\n' ' ')
    keys=$(grep '^charge ' "$dir/effects" | sort -u | wc -l)
    if [ "$mode" = resume ]; then
        if [ "$effects" = "reserved charge charge shipped " ] && [ "$keys" -eq 1 ]; then
            pass "kill -9 mid-saga, restart: the saga resumes (the step reruns with the same idempotency key) and succeeds"
        else
            fail "saga (resume): effects '$effects', distinct keys $keys" "$dir/second.log"
        fi
    else
        # The interrupted step may have completed its work: it is compensated too.
        case "$effects" in
            "reserved charge refunded released " | "reserved charge released ")
                pass "kill -9 mid-saga, restart: on_recovery compensate undoes what completed ($effects)" ;;
            *) fail "saga (compensate): effects '$effects'" "$dir/second.log" ;;
        esac
    fi
}
saga_test resume
saga_test compensate

finish 'all daemon checks passed'
