#!/usr/bin/env bash
# End-to-end checks of `txflow validate` and `txflow jobs` on JSON schedule
# files: exact stdout, exact stderr and exit codes. Run by CTest
# (tools/CMakeLists.txt) as
#   schedule_cli_test.sh <path to the txflow binary>
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../support/cli_common.sh
source "$here/../support/cli_common.sh"
cd "$tmp" || exit 1

# check NAME EXPECTED_RC EXPECTED_STDOUT EXPECTED_STDERR -- ARGS...  (both outputs exact)
check() {
    local name="$1" want_rc="$2" want_out="$3" want_err="$4"
    shift 5
    run "$@"
    [ "$rc" -eq "$want_rc" ] || { fail "$name: exit $rc, want $want_rc"; return; }
    [ "$out" = "$want_out" ] || { fail "$name: stdout differs; want:${nl}$want_out"; return; }
    [ "$err" = "$want_err" ] || { fail "$name: stderr differs; want:${nl}$want_err"; return; }
    pass "$name"
}

cat >valid.json <<'JSON'
{
  "version": 1,
  "queues": {"db": 1},
  "jobs": [
    {"name": "report", "cron": "0 30 2 * * *", "zone": "America/New_York", "queue": "db", "command": {"argv": ["true"]}},
    {"name": "tick", "cron": "*/15 * * * * *", "command": {"argv": ["true"]}},
    {"name": "poll", "every": "1m30s", "command": {"argv": ["true"]}},
    {"name": "once", "at": "2026-03-07T13:00:00+01:00", "command": {"argv": ["true"]}},
    {"name": "later", "at": "2026-03-10T00:00:00Z", "saga": "transfer", "input": {"amount": 1}}
  ],
  "sagas": [
    {"name": "transfer", "on_recovery": "compensate", "steps": [
      {"name": "debit", "command": {"argv": ["true"]}, "compensate": {"argv": ["true"]}},
      {"name": "credit", "command": {"argv": ["true"]}, "no_compensation": true}
    ]}
  ]
}
JSON

cat >invalid.json <<'JSON'
{
  "version": 1,
  "queues": {"db": 2},
  "jobs": [
    {"name": "a", "cron": "0 0 25 * * *", "command": {"argv": ["true"]}},
    {"name": "b", "every": "10sec", "queue": "dbs", "command": {"argv": []}},
    {"name": "a", "at": "2026-03-07T12:00:00Z", "saga": "trasnfer",
     "policies": {"retires": {"attempts": 2}, "timeout": 5}},
    {"name": "c", "cron": "* * * * *", "zone": "Europe/Berln", "command": {"argv": ["true"]}}
  ],
  "sagas": [
    {"name": "transfer", "steps": [{"name": "debit", "command": {"argv": ["true"]}}]}
  ]
}
JSON

printf '{\n  "version": 1,\n  "jobs": [\n' >truncated.json

check "validate: a valid file" 0 "valid.json: ok, 5 jobs, 1 sagas" "" -- validate valid.json

check "validate: every problem, one per line, in document order" 1 "" \
"/jobs/0/cron: hour (field 3, col 5): 25 is out of range 0-23
/jobs/1/every: unknown unit \"sec\" in \"10sec\" (use ns, us, ms, s, m or h)
/jobs/1/queue: queue 'dbs' is not declared in /queues (did you mean 'db'?)
/jobs/1/command/argv: must not be empty: the first element is the program to run
/jobs/2/name: duplicate job name 'a' (first used at /jobs/0/name)
/jobs/2/saga: no saga named 'trasnfer' (did you mean 'transfer'?)
/jobs/2/policies/retires: unknown key 'retires' (did you mean 'retry'?)
/jobs/2/policies/timeout: expected a duration string like \"90s\" or \"1m30s\", got number 5
/jobs/3/zone: unknown time zone \"Europe/Berln\" (did you mean \"Europe/Berlin\"?)
/sagas/0/steps/0: needs 'compensate' (a command that undoes the step) or \"no_compensation\": true
txflow: invalid.json: 10 problems" -- validate invalid.json

check "validate: invalid JSON with line and column" 1 "" \
"invalid JSON at line 4, column 1: syntax error while parsing value - unexpected end of input; expected '[', '{', or a literal
txflow: truncated.json: 1 problem" -- validate truncated.json

check "validate: a missing file is a usage error" 2 "" \
"txflow: cannot read missing.json: No such file or directory" -- validate missing.json

check "validate: a directory is a usage error" 2 "" "txflow: cannot read .: is a directory" -- validate .

cat >pivot.json <<'JSON'
{"version": 1, "jobs": [], "sagas": [
  {"name": "ship", "steps": [
    {"name": "reserve", "command": {"argv": ["true"]}, "compensate": {"argv": ["true"]}},
    {"name": "ship", "command": {"argv": ["true"]}, "no_compensation": true},
    {"name": "notify", "command": {"argv": ["true"]}, "no_compensation": true},
    {"name": "audit", "command": {"argv": ["true"]}, "compensate": {"argv": ["true"]}, "retry": {"attempts": 3}}]}]}
JSON
check "validate: a step after a pivot without a retry policy is a warning, the file stays valid" 0 \
    "pivot.json: ok, 0 jobs, 1 sagas" \
    "warning: /sagas/0/steps/2: step 'notify' follows step 'ship', which cannot be undone (no_compensation), and has no retry policy: if it fails, the saga is not compensated past 'ship' and waits for an operator" \
    -- validate pivot.json

run validate
[ "$rc" -eq 2 ] && pass "validate without FILE is a usage error" || fail "validate without FILE: exit $rc, want 2"

check "jobs: a table soonest first, n/a last, then the sagas" 0 \
"NEXT                       LEFT      SCHEDULE                 ZONE              JOB
2026-03-07T12:00:15Z       15s       cron */15 * * * * *      UTC               tick
2026-03-07T12:01:30Z       1min 30s  every 1m30s              UTC               poll
2026-03-08T03:00:00-04:00  19h       cron 0 30 2 * * *        America/New_York  report
2026-03-10T00:00:00Z       2d 12h    at 2026-03-10T00:00:00Z  UTC               later
n/a                        n/a       at 2026-03-07T12:00:00Z  UTC               once

5 jobs listed.

SAGA      ON RECOVERY  STEPS
transfer  compensate   debit -> credit

1 saga listed." "" -- jobs valid.json --from 2026-03-07T12:00:00Z

check "jobs --count 2: extra rows show NEXT and LEFT" 0 \
"NEXT                       LEFT      SCHEDULE                 ZONE              JOB
2026-03-07T12:00:15Z       15s       cron */15 * * * * *      UTC               tick
2026-03-07T12:00:30Z       30s
2026-03-07T12:01:30Z       1min 30s  every 1m30s              UTC               poll
2026-03-07T12:03:00Z       3min
2026-03-08T03:00:00-04:00  19h       cron 0 30 2 * * *        America/New_York  report
2026-03-09T02:30:00-04:00  1d 18h
2026-03-10T00:00:00Z       2d 12h    at 2026-03-10T00:00:00Z  UTC               later
n/a                        n/a       at 2026-03-07T12:00:00Z  UTC               once

5 jobs listed.

SAGA      ON RECOVERY  STEPS
transfer  compensate   debit -> credit

1 saga listed." "" -- jobs valid.json --from 2026-03-07T12:00:00Z --count 2

run jobs valid.json
if [ "$rc" -eq 0 ] && printf '%s\n' "$out" | head -1 | grep -qE '^NEXT +LEFT +SCHEDULE +ZONE +JOB$' &&
    printf '%s\n' "$out" | grep -qE '^[0-9T:-]+Z +1min 30s +every 1m30s +UTC +poll$'; then
    pass "jobs from now: the same columns, whole seconds"
else
    fail "jobs from now"
fi

check "jobs: an invalid file exits 1 with the problems" 1 "" \
"invalid JSON at line 4, column 1: syntax error while parsing value - unexpected end of input; expected '[', '{', or a literal
txflow: truncated.json: 1 problem" -- jobs truncated.json

check "jobs: a bad --from is a usage error" 2 "" \
"txflow: --from: \"yesterday\" is not an RFC 3339 time (e.g. 2026-03-07T12:00:00Z)" -- jobs valid.json --from yesterday

# 200,000 nested arrays (400 KB): refused at the 65th, at once and in little memory.
head -c 200000 /dev/zero | tr '\0' '[' >deep.json
head -c 200000 /dev/zero | tr '\0' ']' >>deep.json
zeros="$(printf '/0%.0s' $(seq 64))"
# Sanitizer runtimes reserve terabytes of shadow memory, which no ulimit -v
# allows: there the memory limit is left out and the time bound relaxed.
mem_limit_kb=1000000 time_limit_ms=2000 limit_note="under a 1 GB memory limit"
if ldd "$TXFLOW" 2>/dev/null | grep -qE 'lib(asan|tsan)\.'; then
    mem_limit_kb=unlimited time_limit_ms=30000 limit_note="(sanitizer build: no memory limit)"
fi
started=$(date +%s%N)
( ulimit -v "$mem_limit_kb"; "$TXFLOW" validate deep.json >"$tmp/out" 2>"$tmp/err" ); rc=$?
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
out="$(cat "$tmp/out")" err="$(cat "$tmp/err")" last_cmd="validate deep.json"
if [ "$rc" -ne 1 ]; then
    fail "validate: 200,000 nested levels: exit $rc, want 1"
elif [ "$err" != "$zeros: nested more than 64 levels deep at line 1, column 65 (byte 64)${nl}txflow: deep.json: 1 problem" ]; then
    fail "validate: 200,000 nested levels: the pointer and position of the 65th level"
elif [ "$elapsed_ms" -gt "$time_limit_ms" ]; then
    fail "validate: 200,000 nested levels took ${elapsed_ms} ms"
else
    pass "validate: 200,000 nested levels are refused in ${elapsed_ms} ms $limit_note, with the place"
fi

# The shipped examples stay valid.
for f in "$here"/../../examples/*.json; do
    [ -e "$f" ] || continue
    run validate "$f"
    if [ "$rc" -eq 0 ]; then pass "$(basename "$f") is valid"; else fail "$(basename "$f") is invalid"; fi
done

finish 'all schedule CLI checks passed'
