#!/usr/bin/env bash
# End-to-end checks of cluster mode from the command line (docs/cluster.md):
# "store" in a schedule file (validated with its pointer), `txflow run --store`
# running a cron job and an enqueued job, `txflow enqueue` (ids, unique keys,
# --count, bad input), `txflow cluster status`, SIGTERM, and the refusal of a
# saga job. Without TXFLOW_PG_URL: exit 77 (skipped); under CI=true a failure.
# Run by CTest (tools/CMakeLists.txt) as cluster_cli_test.sh <path to txflow>.
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../support/cli_common.sh
source "$here/../support/cli_common.sh"

# The file's "store" needs no server.
cat >"$tmp/bad_store.json" <<'JSON'
{"version": 1, "store": "mysql://db/app", "jobs": [{"name": "a", "every": "1s", "command": {"argv": ["true"]}}]}
JSON
run validate "$tmp/bad_store.json"
if [ "$rc" -eq 1 ] && [[ "$err$out" == *"/store: expected a PostgreSQL URL"* ]] && [[ "$err$out" != *mysql* ]]; then
    pass "a bad \"store\" is refused at /store, without echoing it"
else
    fail "a bad \"store\" is refused at /store"
fi

schema="hcluster_cli_$$"
# shellcheck source=../support/cli_pg.sh
source "$here/../support/cli_pg.sh"

# Bad input to enqueue.
run enqueue --store "$URL" --schema "$schema" hello --run-at soon
if [ "$rc" -eq 2 ] && [[ "$err" == *"--run-at: 'soon' is neither"* ]]; then pass "enqueue: a bad --run-at"; else fail "enqueue: a bad --run-at"; fi
run enqueue --store "postgresql://127.0.0.1:1/none" hello
if [ "$rc" -eq 4 ] && [[ "$err" == *"cannot connect"* ]]; then pass "enqueue: server down: exit 4"; else fail "enqueue: server down: exit 4"; fi

run db migrate --store "$URL" --schema "$schema"
[ "$rc" -eq 0 ] || fail "db migrate"

run enqueue --store "$URL" --schema "$schema" hello --payload '{"to":"world"}' --unique-key greet-1
first="$out"
if [ "$rc" -eq 0 ] && [[ "$first" =~ ^[0-9]+$ ]]; then pass "enqueue prints the id"; else fail "enqueue prints the id"; fi
run enqueue --store "$URL" --schema "$schema" hello --payload other --unique-key greet-1
if [ "$rc" -eq 0 ] && [ "$out" = "$first" ] && [[ "$err" == *"exists already"* ]]; then
    pass "a second enqueue with the key returns the first id"
else
    fail "a second enqueue with the key returns the first id"
fi
run enqueue --store "$URL" --schema "$schema" later --count 3 --run-at 1h
if [ "$rc" -eq 0 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 3 ]; then pass "--count 3 prints 3 ids"; else fail "--count 3 prints 3 ids"; fi

# A saga job cannot run in cluster mode: refused with its pointer.
cat >"$tmp/saga.json" <<JSON
{"version": 1, "store": "$URL",
 "sagas": [{"name": "s", "steps": [{"name": "a", "command": {"argv": ["true"]}, "no_compensation": true}]}],
 "jobs": [{"name": "j", "every": "1h", "saga": "s"}]}
JSON
run run "$tmp/saga.json" --schema "$schema" --for 1s
if [ "$rc" -eq 1 ] && [[ "$err" == *"/jobs/0: job 'j' runs a saga: only command jobs run in cluster mode"* ]]; then
    pass "a saga job is refused in cluster mode"
else
    fail "a saga job is refused in cluster mode"
fi

# A member from the file's "store": a cron job every second, and the enqueued one.
cat >"$tmp/member.json" <<JSON
{"version": 1, "store": "$URL", "workers": 2,
 "jobs": [
  {"name": "tick", "cron": "* * * * * *",
   "command": {"argv": ["sh", "-c", "echo \"\$TXFLOW_FIRE_TIME \$TXFLOW_NODE\" >> $tmp/ticks"]}},
  {"name": "hello", "at": "2000-01-01T00:00:00Z",
   "command": {"argv": ["sh", "-c", "echo \"\$TXFLOW_JOB_ID \$TXFLOW_PAYLOAD \$TXFLOW_ATTEMPT\" >> $tmp/hello"]}}]}
JSON
"$TXFLOW" run "$tmp/member.json" --schema "$schema" --node cli-node --lease 3s --for 60s >"$tmp/member.log" 2>&1 &
member=$!
pids+=("$member")
for _ in $(seq 1 100); do
    [ -s "$tmp/hello" ] && [ "$(cat "$tmp/ticks" 2>/dev/null | wc -l)" -ge 2 ] && break
    sleep 0.1
done
if [ "$(cat "$tmp/hello" 2>/dev/null)" = "$first {\"to\":\"world\"} 1" ]; then
    pass "the enqueued job ran with its id, payload and attempt"
else
    fail "the enqueued job ran: $(cat "$tmp/hello" 2>/dev/null) / $(cat "$tmp/member.log")"
fi
if grep -Eq '^[0-9T:-]+Z cli-node$' "$tmp/ticks" 2>/dev/null; then
    pass "the cron job fired on the member"
else
    fail "the cron job fired: $(cat "$tmp/ticks" 2>/dev/null) / $(cat "$tmp/member.log")"
fi
run cluster status --store "$URL" --schema "$schema"
if [ "$rc" -eq 0 ] && [[ "$out" == *"nodes: 1"* ]] && [[ "$out" == *"cli-node"* ]] &&
    [[ "$out" == *"leader cron: cli-node"* ]] && [[ "$out" =~ later\ +3\ +0 ]]; then
    pass "cluster status: the node, the leader, the jobs by kind"
else
    fail "cluster status"
fi
run cluster status --store "$URL" --schema "$schema" --json
if [ "$rc" -eq 0 ] && [[ "$out" == *'"kind": "hello"'* ]]; then pass "cluster status --json"; else fail "cluster status --json"; fi

kill -TERM "$member"
wait "$member"
rc=$?
if [ "$rc" -eq 0 ] && grep -q "SIGTERM: shutting down" "$tmp/member.log" &&
    [ "$(sql "SELECT count(*) FROM \"$schema\".txflow_nodes")" = "0" ]; then
    pass "SIGTERM: exit 0, the node row is gone"
else
    fail "SIGTERM: exit $rc: $(cat "$tmp/member.log")"
fi
finish "cluster CLI: all checks passed"
