#!/usr/bin/env bash
# kill -9 loop of `txflow run`: the daemon is killed at random instants and
# restarted on the same state directory, then runs once more to catch up and
# drain. Per scheduled second it checks the misfire policies' promise:
#   fire_all     every second ran at least once;
#   fire_once    every second ran, or a "missed N fire(s) from T" line covers it;
#   saga job     every second's saga ran its step (the saga was created);
#   none of them ran a second more often than kills could explain.
# One worker and a job that holds it for 1.5 s of every 3, so fires queue
# behind it when the kill lands (the case that lost fires before: a queued
# fire counted as done). Run by CTest as
#   daemon_kill_test.sh <path to the txflow binary> [kills]
here="$(cd "$(dirname "$0")" && pwd)"
cli_usage="daemon_kill_test.sh <path to the txflow binary> [kills]"
# shellcheck source=../support/cli_common.sh
source "$here/../support/cli_common.sh"
kills="${2:-${TXFLOW_KILLS:-12}}"

fail() {
    failures=$((failures + 1))
    printf 'FAIL: %s\n' "$1"
}

state="$tmp/state"
cat >"$tmp/kill.json" <<JSON
{"version": 1, "state_dir": "$state", "workers": 1,
 "jobs": [
  {"name": "hold", "cron": "*/3 * * * * *", "priority": "high", "policies": {"overlap": "skip"},
   "command": {"argv": ["sleep", "1.5"]}},
  {"name": "all", "cron": "* * * * * *", "misfire": {"fire_all": 1000},
   "command": {"argv": ["sh", "-c", "echo \"\$TXFLOW_FIRE_TIME\" >> '$tmp/all.ledger'"]}},
  {"name": "once", "cron": "* * * * * *", "misfire": "fire_once",
   "command": {"argv": ["sh", "-c", "echo \"\$TXFLOW_FIRE_TIME\" >> '$tmp/once.ledger'"]}},
  {"name": "sagas", "cron": "* * * * * *", "misfire": {"fire_all": 1000}, "saga": "note"}],
 "sagas": [
  {"name": "note", "steps": [
    {"name": "write", "no_compensation": true,
     "command": {"argv": ["sh", "-c", "echo \"\$TXFLOW_SAGA_ID\" >> '$tmp/saga.ledger'"]}}]}]}
JSON

"$TXFLOW" validate "$tmp/kill.json" >/dev/null 2>"$tmp/validate.err" || {
    cat "$tmp/validate.err"
    fail "the test's schedule does not validate"
    finish ""
}

# A random pause in [300, 1800) ms, from bash's own generator (seeded, printed).
seed="${TXFLOW_KILL_SEED:-$$}"
RANDOM=$seed
echo "seed: $seed (TXFLOW_KILL_SEED replays it), kills: $kills"
for ((i = 1; i <= kills; i++)); do
    "$TXFLOW" run "$tmp/kill.json" >>"$tmp/daemon.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    ms=$((300 + RANDOM % 1500))
    sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
done
# The last run catches up what the kills left, then drains and exits.
"$TXFLOW" run "$tmp/kill.json" --for 4s --drain 20s >>"$tmp/daemon.log" 2>&1 || fail "the final run exited $?"

# Seconds since the epoch of an RFC 3339 UTC time.
epoch() { date -u -d "$1" +%s; }

# first..last scheduled second seen by the fire_all job: the window checked.
sort -u "$tmp/all.ledger" >"$tmp/all.seconds"
first="$(head -n 1 "$tmp/all.seconds")"
last="$(tail -n 1 "$tmp/all.seconds")"
[ -n "$first" ] || {
    fail "no fire ran at all"
    finish ""
}
from=$(epoch "$first")
to=$(epoch "$last")
span=$((to - from + 1))
echo "window: $first .. $last ($span s)"
[ "$span" -ge $((kills / 2)) ] || fail "the window is too short to mean anything ($span s)"

missing_all=0 missing_once=0 missing_saga=0
declare -A covered=()
# Every "missed N fire(s) from T on" line of the fire_once job covers T .. T+N-1.
while read -r n t; do
    s=$(epoch "$t")
    for ((k = 0; k < n; k++)); do covered[$((s + k))]=1; done
done < <(grep -oE "job 'once' missed [0-9]+ fire\(s\) from [^ ]+" "$tmp/daemon.log" |
    sed -E "s/job 'once' missed ([0-9]+) fire\(s\) from ([^ ]+)/\1 \2/")
declare -A once_ran=() saga_ran=()
while read -r t; do once_ran[$(epoch "$t")]=1; done <"$tmp/once.ledger"
# Saga ids of a cron job are "<job>@<fire time>".
while read -r id; do saga_ran[$(epoch "${id#sagas@}")]=1; done < <(sort -u "$tmp/saga.ledger")
declare -A all_ran=()
while read -r t; do all_ran[$(epoch "$t")]=1; done <"$tmp/all.seconds"

for ((s = from; s <= to; s++)); do
    when="$(date -u -d "@$s" +%Y-%m-%dT%H:%M:%SZ)"
    [ -n "${all_ran[$s]:-}" ] || {
        missing_all=$((missing_all + 1))
        echo "  fire_all: $when never ran"
    }
    [ -n "${once_ran[$s]:-}" ] || [ -n "${covered[$s]:-}" ] || {
        missing_once=$((missing_once + 1))
        echo "  fire_once: $when neither ran nor was reported missed"
    }
    [ -n "${saga_ran[$s]:-}" ] || {
        missing_saga=$((missing_saga + 1))
        echo "  saga: the saga of $when never ran its step"
    }
done
[ "$missing_all" -eq 0 ] && pass "fire_all: all $span seconds ran across $kills kills" ||
    fail "fire_all: $missing_all of $span seconds never ran"
[ "$missing_once" -eq 0 ] && pass "fire_once: every second ran or was reported missed" ||
    fail "fire_once: $missing_once of $span seconds lost silently"
[ "$missing_saga" -eq 0 ] && pass "saga job: every second's saga was created and ran" ||
    fail "saga job: $missing_saga of $span seconds have no saga"

# A fire runs twice only when a kill landed during its run: at most one per
# job per kill with one worker (the run in flight), plus the fires already
# queued for the worker when the kill came (ended but not yet recorded).
dups=$(sort "$tmp/all.ledger" | uniq -d | wc -l)
echo "fire_all duplicates: $dups over $kills kills"
[ "$dups" -le "$kills" ] && pass "fire_all: $dups duplicate run(s), no more than the kills ($kills)" ||
    fail "fire_all: $dups duplicate runs for $kills kills"

grep -q "stopped" "$tmp/daemon.log" || fail "the final run did not stop cleanly"
"$TXFLOW" wal verify "$state" >"$tmp/verify.out" 2>&1 || {
    cat "$tmp/verify.out"
    fail "wal verify after the kills"
}
finish "daemon kill test: no fire lost across $kills kill -9s"
