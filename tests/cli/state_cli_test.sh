#!/usr/bin/env bash
# End-to-end checks of `txflow status DIR` and `txflow sagas DIR` on a state
# directory a short `txflow run` leaves: a compensated saga, a succeeded one,
# a dead letter and a pending retry; and that neither command changes it.
# Run by CTest (tools/CMakeLists.txt) as state_cli_test.sh <path to txflow>.
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../support/cli_common.sh
source "$here/../support/cli_common.sh"

# has NAME TEXT: $out contains TEXT.
has() {
    case "$out" in
        *"$2"*) return 0 ;;
        *) fail "$1: stdout lacks: $2"; return 1 ;;
    esac
}
digest() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum) | sha256sum; }

cat >"$tmp/state.json" <<'JSON'
{"version": 1, "state_dir": "state",
 "jobs": [{"name": "ok-order", "cron": "* * * * * *", "saga": "good"},
          {"name": "bad-order", "cron": "* * * * * *", "saga": "bad"},
          {"name": "doomed", "cron": "* * * * * *", "command": {"argv": ["sh", "-c", "exit 5"]},
           "policies": {"retry": {"attempts": 2, "backoff": "fixed", "initial": "10ms"}}},
          {"name": "later", "cron": "* * * * * *", "command": {"argv": ["sh", "-c", "exit 6"]},
           "policies": {"retry": {"attempts": 3, "backoff": "fixed", "initial": "1h"}}}],
 "sagas": [{"name": "good", "steps": [{"name": "one", "command": {"argv": ["true"]}, "no_compensation": true}]},
           {"name": "bad", "steps": [
             {"name": "reserve", "command": {"argv": ["true"]}, "compensate": {"argv": ["true"]}},
             {"name": "charge", "command": {"argv": ["sh", "-c", "echo card declined >&2; exit 4"]},
              "no_compensation": true}]}]}
JSON
"$TXFLOW" run "$tmp/state.json" --for 1500ms >"$tmp/run.log" 2>&1
state="$tmp/state"
[ -d "$state" ] || { echo "FAIL: txflow run left no state directory"; cat "$tmp/run.log"; exit 1; }
before="$(digest "$state")"

run status "$state"
if [ "$rc" -eq 0 ] && has status "dir: $state" && has status "snapshot: " && has status "records: " &&
    has status "compensated" && has status "succeeded" && has status "dead letters: " &&
    has status "last fire: doomed 20" && has status "retry: later attempt 2 of the fire at"; then
    pass "status: the log, sagas by state, dead letters, last fires and pending retries"
else
    [ "$rc" -eq 0 ] || fail "status: exit $rc"
fi
case "$out" in
    *"dead letters: 0"*) fail "status: the failing job 'doomed' left no dead letter" ;;
    *) ;;
esac

run sagas "$state"
if [ "$rc" -eq 0 ] && has sagas "ID" && has sagas "LAST ERROR"; then
    bad_line="$(printf '%s\n' "$out" | grep ' bad ' | head -n 1)"
    good_line="$(printf '%s\n' "$out" | grep ' good ' | head -n 1)"
    case "$bad_line" in
        *compensated*1/2*"exit"*4*) pass "sagas: a compensated saga with its steps done and its last error" ;;
        *) fail "sagas: the 'bad' saga's line: $bad_line" ;;
    esac
    case "$good_line" in
        *succeeded*1/1*-*) pass "sagas: a succeeded saga, no error" ;;
        *) fail "sagas: the 'good' saga's line: $good_line" ;;
    esac
    if printf '%s\n' "$out" | grep -q '^dead letter [0-9]*: doomed fire .* 2 attempt(s), failed .*exit'; then
        pass "sagas: the dead letters follow"
    else
        fail "sagas: no dead letter line for 'doomed'"
    fi
else
    fail "sagas: exit $rc"
fi
if [ "$(digest "$state")" = "$before" ]; then pass "status and sagas change nothing"; else fail "the directory changed"; fi

# A damaged log: exit 1 with the place.
seg="$(find "$state" -name '*.wal' | sort | head -n 1)"
printf 'Z' | dd of="$seg" bs=1 seek=62 conv=notrunc status=none
run status "$state"
if [ "$rc" -eq 1 ] && case "$err" in *"at byte 32"*) true ;; *) false ;; esac then
    pass "status: a damaged log exits 1 and says where"
else
    fail "status of a damaged log: want exit 1 naming byte 32"
fi

mkdir -p "$tmp/empty"
run sagas "$tmp/empty"
if [ "$rc" -eq 0 ] && has "sagas empty" "no sagas"; then pass "sagas: an empty directory has none"; fi
run status
[ "$rc" -eq 2 ] && pass "status without DIR: exit 2" || fail "status without DIR: exit $rc, want 2"
run sagas "$tmp/missing"
[ "$rc" -eq 2 ] && pass "sagas of a missing directory: exit 2" || fail "sagas of a missing directory: exit $rc, want 2"

finish "all state CLI checks passed"
