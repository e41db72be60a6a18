#!/usr/bin/env bash
# End-to-end checks of `txflow cron next|explain`: exact stdout, stderr
# fragments and exit codes. Run by CTest (tools/CMakeLists.txt) as
#   cron_cli_test.sh <path to the txflow binary>
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../support/cli_common.sh
source "$here/../support/cli_common.sh"

# check NAME EXPECTED_RC EXPECTED_STDOUT [STDERR_FRAGMENT] -- ARGS...
check() {
    local name="$1" want_rc="$2" want_out="$3" want_err="" 
    shift 3
    if [ "$1" != "--" ]; then want_err="$1"; shift; fi
    shift  # --
    run "$@"
    [ "$rc" -eq "$want_rc" ] || { fail "$name: exit $rc, want $want_rc"; return; }
    [ "$out" = "$want_out" ] || { fail "$name: stdout differs; want: $want_out"; return; }
    if [ -n "$want_err" ]; then
        case "$err" in
            *"$want_err"*) ;;
            *) fail "$name: stderr lacks: $want_err"; return ;;
        esac
    fi
    pass "$name"
}

check "spring-forward gap fires once at the first instant after it" 0 \
"2026-03-08T03:00:00-04:00${nl}2026-03-09T02:30:00-04:00${nl}2026-03-10T02:30:00-04:00" \
    -- cron next "0 30 2 * * *" --tz America/New_York --from 2026-03-07T12:00:00Z -n 3

check "fall-back overlap: a fixed time fires once, at the first occurrence" 0 \
"2026-11-01T01:30:00-04:00${nl}2026-11-02T01:30:00-05:00" \
    -- cron next "30 1 * * *" --tz America/New_York --from 2026-10-31T12:00:00Z -n 2

check "default count is 1, default zone UTC" 0 "2026-03-08T02:30:00Z" \
    -- cron next "0 30 2 * * *" --from 2026-03-07T12:00:00Z

check "invalid expression: exit 2, the parse error on stderr" 2 "" \
    "txflow: hour (field 3, col 5): 25 is out of range 0-23" \
    -- cron next "0 0 25 * * *" --from 2026-03-07T12:00:00Z

check "never fires: exit 1, nothing on stdout" 1 "" \
    "txflow: expression never fires after 2026-03-07T12:00:00Z" \
    -- cron next "0 0 30 2 *" --from 2026-03-07T12:00:00Z

check "runs out after some fires: print them, exit 0" 0 "2026-01-01T00:00:00Z" \
    -- cron next "0 0 0 1 1 ? 2026" --from 2025-06-01T00:00:00Z -n 3

check "a CRON_TZ= prefix beats --tz" 0 \
"2026-03-08T09:00:00+01:00${nl}2026-03-09T09:00:00+01:00" \
    -- cron next "CRON_TZ=Europe/Berlin 0 9 * * *" --tz America/New_York --from 2026-03-07T12:00:00Z -n 2

check "--from with an offset and a fraction" 0 \
"2026-03-07T12:00:01.250Z${nl}2026-03-07T12:00:02.250Z" \
    -- cron next "@every 1s" --from 2026-03-07T17:30:00.250+05:30 -n 2

check "--from with an offset, printed in --tz" 0 \
"2026-03-07T17:30:15+05:30${nl}2026-03-07T17:30:30+05:30" \
    -- cron next "*/15 * * * * *" --from 2026-03-07T17:30:00.250+05:30 --tz Asia/Kolkata -n 2

check "--format unix rejects 6 fields" 2 "" "expected 5 fields, got 6" \
    -- cron next "0 30 2 * * *" --format unix --from 2026-03-07T12:00:00Z

check "--format quartz accepts a year field" 0 "2027-01-01T00:00:00Z" \
    -- cron next "0 0 0 1 1 ? 2027" --format quartz --from 2026-03-07T12:00:00Z

check "explain: the description, then 5 fires" 0 \
"At 02:30, Monday through Friday (Europe/Berlin time)
Next fires:
  2026-03-09T02:30:00+01:00
  2026-03-10T02:30:00+01:00
  2026-03-11T02:30:00+01:00
  2026-03-12T02:30:00+01:00
  2026-03-13T02:30:00+01:00" \
    -- cron explain "CRON_TZ=Europe/Berlin 0 30 2 * * MON-FRI" --from 2026-03-07T12:00:00Z

check "explain with --tz names the zone" 0 \
"Every 15 minutes, between 09:00 and 17:59, Monday through Friday (America/New_York time)
Next fires:
  2026-03-09T09:00:00-04:00
  2026-03-09T09:15:00-04:00
  2026-03-09T09:30:00-04:00
  2026-03-09T09:45:00-04:00
  2026-03-09T10:00:00-04:00" \
    -- cron explain "*/15 9-17 * * MON-FRI" --tz America/New_York --from 2026-03-07T12:00:00Z

check "explain of a schedule that never fires: exit 1" 1 \
"At 00:00, on February 30
Next fires: none" "txflow: expression never fires after" \
    -- cron explain "0 0 30 2 *" --from 2026-03-07T12:00:00Z

check "--version" 0 "txflow 0.1.0" -- --version
check "unknown --tz: exit 2" 2 "" 'txflow: --tz: unknown time zone "Mars/Olympus"' \
    -- cron next "* * * * *" --tz Mars/Olympus
check "bad --from: exit 2" 2 "" "txflow: --from:" -- cron next "* * * * *" --from yesterday
check "bad --format: exit 2" 2 "" "txflow: --format:" -- cron next "* * * * *" --format cronie
check "-n 0: exit 2" 2 "" "txflow: --count:" -- cron next "* * * * *" -n 0
check "no subcommand: exit 2" 2 "" "txflow: A subcommand is required" --
check "missing expression: exit 2" 2 "" "txflow: EXPR is required" -- cron next
check "unknown option: exit 2" 2 "" "txflow: " -- cron next "* * * * *" --bogus
check "unknown command: exit 2, named" 2 "" "txflow: unknown command 'bogus'${nl}" -- bogus
check "unknown command: did you mean" 2 "" "txflow: unknown command 'valdate' (did you mean 'validate'?)" -- valdate
check "unknown command in a group" 2 "" "txflow: unknown command 'wal verfy' (did you mean 'wal verify'?)" \
    -- wal verfy /tmp
check "a lower-case zone prefix: exit 2 with a hint" 2 "" \
    'txflow: col 1: time zone prefix "cron_tz=" must be upper case (did you mean CRON_TZ=?)' -- cron next "cron_tz=UTC 0 0 * * *"

# Help exits 0 and names the subcommands.
for args in "--help" "cron --help" "cron next --help" "cron explain --help"; do
    # shellcheck disable=SC2086  # split on purpose
    run $args
    if [ "$rc" -ne 0 ] || [ -z "$out" ]; then
        fail "$args: exit 0 with usage on stdout"
    else
        pass "$args"
    fi
done
run cron --help
case "$out" in *next*explain*) ;; *) fail "cron --help lists next and explain" ;; esac

# A valid run of `next` with the default --from (now) prints one instant.
run cron next "* * * * *"
if [ "$rc" -ne 0 ] || ! printf '%s\n' "$out" | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:00Z$'; then
    fail "default --from is now"
else
    pass "default --from is now"
fi

finish 'all checks passed'
