#!/usr/bin/env bash
# The --json outputs of `txflow cron next|explain` and `txflow validate`
# (docs/cli.md): each is one JSON object on stdout with the documented keys,
# with the same exit codes as the text form. Checked with Python's json
# module, key by key, not by text.
# Run by CTest (tools/CMakeLists.txt) as json_cli_test.sh <path to txflow>.
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../support/cli_common.sh
source "$here/../support/cli_common.sh"

# check NAME RC PYTHON-EXPR: the exit code, and EXPR true of the parsed stdout (`j`).
check() {
    if [ "$rc" -ne "$2" ]; then
        fail "$1: exit $rc, expected $2"
        return
    fi
    if printf '%s' "$out" | python3 -c "import json, sys; j = json.load(sys.stdin); sys.exit(0 if ($3) else 1)"; then
        pass "$1"
    else
        fail "$1: stdout is not JSON with: $3"
    fi
}

run cron next "0 9 * * MON-FRI" --tz Europe/Berlin --from 2026-03-27T00:00:00Z -n 2 --json
check "cron next --json" 0 \
    'j == {"expression": "0 9 * * MON-FRI", "zone": "Europe/Berlin", "from": "2026-03-27T01:00:00+01:00",
           "fires": ["2026-03-27T09:00:00+01:00", "2026-03-30T09:00:00+02:00"]}'

run cron next "0 0 30 2 *" --from 2026-01-01T00:00:00Z --json
check "cron next --json, never fires: empty fires, exit 1" 1 'j["fires"] == [] and j["zone"] == "UTC"'

run cron explain "*/15 * * * *" --from 2026-01-01T00:00:00Z --json
check "cron explain --json" 0 \
    'j["description"] != "" and j["fires"] == ["2026-01-01T00:15:00Z", "2026-01-01T00:30:00Z",
     "2026-01-01T00:45:00Z", "2026-01-01T01:00:00Z", "2026-01-01T01:15:00Z"]'

run cron next "61 * * * *" --json
if [ "$rc" -eq 2 ] && [ -z "$out" ]; then pass "cron next --json, bad expression: exit 2, no JSON"; else fail "bad expression"; fi

cat >"$tmp/good.json" <<'JSON'
{"version": 1, "jobs": [{"name": "tick", "cron": "*/5 * * * *", "command": {"argv": ["true"]}}]}
JSON
run validate "$tmp/good.json" --json
check "validate --json, valid" 0 \
    'j["valid"] is True and j["jobs"] == 1 and j["sagas"] == 0 and j["problems"] == [] and j["warnings"] == []'

cat >"$tmp/bad.json" <<'JSON'
{"version": 1, "jobs": [{"name": "tick", "cron": "61 * * * *", "command": {"argv": ["true"]}},
                        {"name": "tick", "every": "5s", "command": {"argv": ["true"]}}]}
JSON
run validate "$tmp/bad.json" --json
check "validate --json, invalid: every problem with its JSON pointer" 1 \
    'j["valid"] is False and [p["pointer"] for p in j["problems"]] == ["/jobs/0/cron", "/jobs/1/name"]
     and "out of range" in j["problems"][0]["reason"] and "jobs" not in j'

run validate "$tmp/missing.json" --json
check "validate --json, unreadable: one problem at the root, exit 2" 2 \
    'j["valid"] is False and len(j["problems"]) == 1 and j["problems"][0]["pointer"] == ""'

cat >"$tmp/jobs.json" <<'JSON'
{"version": 1,
 "jobs": [{"name": "backup", "cron": "0 0 3 * * *", "zone": "Europe/Berlin", "command": {"argv": ["true"]}},
          {"name": "tick", "every": "90s", "command": {"argv": ["true"]}}],
 "sagas": [{"name": "order", "steps": [
     {"name": "reserve", "command": {"argv": ["true"]}, "compensate": {"argv": ["true"]}},
     {"name": "charge", "command": {"argv": ["true"]}, "compensate": {"argv": ["true"]}}]}]}
JSON
run jobs "$tmp/jobs.json" --from 2026-03-07T12:00:00Z -n 2 --json
check "jobs --json: jobs soonest first with their next fires, then sagas" 0 \
    'j["from"] == "2026-03-07T12:00:00Z"
     and j["jobs"] == [{"name": "tick", "schedule": "every 1m30s", "zone": "UTC",
                        "next": ["2026-03-07T12:01:30Z", "2026-03-07T12:03:00Z"]},
                       {"name": "backup", "schedule": "cron 0 0 3 * * *", "zone": "Europe/Berlin",
                        "next": ["2026-03-08T03:00:00+01:00", "2026-03-09T03:00:00+01:00"]}]
     and j["sagas"] == [{"name": "order", "on_recovery": "resume", "steps": ["reserve", "charge"]}]'

finish "json cli: every check passed"
