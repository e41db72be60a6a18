#!/usr/bin/env bash
# End-to-end checks of `txflow db migrate` and `txflow db status` against a
# real PostgreSQL (TXFLOW_PG_URL; scripts/test starts one, scripts/pg-dev by
# hand): output lines and exit codes, a fresh schema, a second migrate, a
# schema from a newer txflow, and the errors for a wrong URL or a server that
# is not there. Without TXFLOW_PG_URL: exit 77 (ctest: skipped); under
# CI=true that is a failure instead.
# Run by CTest (tools/CMakeLists.txt) as db_cli_test.sh <path to txflow>.
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../support/cli_common.sh
source "$here/../support/cli_common.sh"

schema="txflow_cli_$$_${RANDOM}"
# shellcheck source=../support/cli_pg.sh
source "$here/../support/cli_pg.sh"

expect() {  # expect NAME RC TEXT: exit code and a line of stdout
    if [ "$rc" -ne "$2" ]; then
        fail "$1: exit $rc, expected $2"
        return
    fi
    case "$out$nl" in
        *"$3$nl"*) pass "$1" ;;
        *) fail "$1: stdout lacks the line: $3" ;;
    esac
}

latest_line() { sed -n 's/^version: [0-9]* (this txflow: \([0-9]*\))$/\1/p' <<<"$out"; }

run db status --store "$URL" --schema "$schema"
expect "status of a schema that does not exist" 1 "status: not created (run \`txflow db migrate\`)"
latest="$(latest_line)"
if [ -z "$latest" ] || [ "$latest" -lt 2 ]; then fail "status prints this txflow's version (got '$latest')"; fi
# Every migration this txflow knows, 1 first and $latest last (numbers may skip one that a
# parallel branch holds: each migration keeps the number it was given).
all="$(sed -n 's/^pending: //p' <<<"$out")"
case "$all" in 1,*", $latest") ;; *) fail "pending lists 1 .. $latest (got '$all')" ;; esac
expect "status lists the pending migrations" 1 "pending: $all"

run db migrate --store "$URL" --schema "$schema"
expect "migrate applies them all" 0 "applied: $all"
expect "migrate prints the version" 0 "version: $latest"

run db migrate --store "$URL" --schema "$schema"
expect "a second migrate applies nothing" 0 "applied: none (already up to date)"

run db status --store "$URL" --schema "$schema"
expect "status after migrate" 0 "status: up to date"
expect "status prints the version" 0 "version: $latest (this txflow: $latest)"

# Several migrators at once on a fresh schema: all succeed, each migration once.
drop_schema
mig_pids=()
for i in 1 2 3 4; do
    "$TXFLOW" db migrate --store "$URL" --schema "$schema" >"$tmp/mig$i.out" 2>&1 &
    mig_pids+=($!)
done
ok=1
for p in "${mig_pids[@]}"; do wait "$p" || ok=0; done
rows="$(sql "SELECT count(*) FROM \"$schema\".txflow_schema_version")"
if [ "$ok" -eq 1 ] && [ "$rows" = "$latest" ]; then
    pass "four concurrent migrates: each migration applied once"
else
    last_cmd="db migrate (x4)" rc="$ok" out="$(cat "$tmp"/mig*.out)" err="" fail "concurrent migrates (rows: $rows)"
fi

sql "INSERT INTO \"$schema\".txflow_schema_version (version, summary) VALUES ($((latest + 1)), 'from the future')"
run db status --store "$URL" --schema "$schema"
expect "status of a schema from a newer txflow" 1 "status: newer than this txflow (upgrade txflow)"
run db migrate --store "$URL" --schema "$schema"
if [ "$rc" -eq 1 ] && [[ $err == *"newer than this txflow knows"* ]]; then
    pass "migrate refuses a schema from a newer txflow"
else
    fail "migrate on a newer schema: exit 1 and the reason on stderr"
fi

run db status --store "postgresql://[::1" --schema "$schema"
if [ "$rc" -eq 2 ] && [[ $err == *"bad connection string"* ]]; then pass "a malformed URL is a usage error"; else fail "malformed URL"; fi
run db status --store "$URL" --schema "Bad-Name"
if [ "$rc" -eq 2 ] && [[ $err == *"bad schema name"* ]]; then pass "a bad schema name is a usage error"; else fail "bad schema name"; fi
run db status --store "postgresql://postgres@127.0.0.1:1/postgres"
if [ "$rc" -eq 4 ] && [[ $err == *"cannot connect to 127.0.0.1:1"* ]]; then
    pass "a server that is not there: exit 4, host and port named"
else
    fail "server down"
fi
run db status
if [ "$rc" -eq 2 ] && [[ $err == *"--store"* ]]; then pass "--store is required"; else fail "--store required"; fi

finish "db CLI: all checks passed"
