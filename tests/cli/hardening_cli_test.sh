#!/usr/bin/env bash
# End-to-end checks of the daemon's hardening (docs/daemon.md) with `txflow run`
# as a child process: the state directory's modes and the refusal of an unsafe
# one, a root daemon's refusal of a schedule file others may write, the output
# cap on a command printing 100 MB (and the daemon's peak memory meanwhile),
# the environment allow-list, secrets from
# files that never reach the log or `txflow wal dump`, and (as root) commands
# run as another user. Run by CTest (tools/CMakeLists.txt) as
#   hardening_cli_test.sh <path to the txflow binary>
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../support/cli_common.sh
source "$here/../support/cli_common.sh"

umask 022  # what an operator's shell has: the daemon must not depend on it

# fail MESSAGE [LOG]: the daemon's log, if given.
fail() {
    failures=$((failures + 1))
    printf 'FAIL: %s\n' "$1"
    [ -n "${2:-}" ] && [ -f "$2" ] && head -c 4000 "$2" | sed 's/^/  | /'
}

mode() { stat -c %a "$1"; }

# A fire one second from now: an `at` job runs once within --for (set before each file).
soon=""
set_soon() { soon="$(date -u -d '+1 second' +%Y-%m-%dT%H:%M:%SZ)"; }

# ---------------------------------------------------------------- state dir modes
set_soon
cat >"$tmp/state.json" <<JSON
{"version": 1, "state_dir": "state/wal", "jobs": [
  {"name": "once", "at": "$soon", "command": {"argv": ["true"]}}]}
JSON
"$TXFLOW" run "$tmp/state.json" --for 2s >"$tmp/state.log" 2>&1
rc=$?
files_ok=1
for f in "$tmp"/state/wal/*; do
    [ -f "$f" ] && [ "$(mode "$f")" != 600 ] && files_ok=0
done
if [ "$rc" -eq 0 ] && [ "$(mode "$tmp/state/wal")" = 700 ] && [ "$files_ok" = 1 ] &&
    [ -n "$(ls "$tmp/state/wal")" ]; then
    pass "the state directory is created 0700 and its files 0600 under umask 022"
else
    fail "state modes: rc=$rc dir=$(mode "$tmp/state/wal") $(ls -l "$tmp/state/wal" | tr '\n' ' ')" "$tmp/state.log"
fi

chmod 777 "$tmp/state/wal"
"$TXFLOW" run "$tmp/state.json" --for 1s >"$tmp/unsafe-state.log" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && grep -qF "writable by group or others (mode 0777): run \`chmod 700 $tmp/state/wal\`" \
    "$tmp/unsafe-state.log"; then
    pass "a state directory others may write is refused, naming chmod 700"
else
    fail "unsafe state dir: rc=$rc" "$tmp/unsafe-state.log"
fi

# ---------------------------------------------------------------- schedule file others may write
if [ "$(id -u)" -eq 0 ]; then
    cat >"$tmp/unsafe.json" <<'JSON'
{"version": 1, "jobs": [{"name": "a", "every": "1h", "command": {"argv": ["true"]}}]}
JSON
    chmod 664 "$tmp/unsafe.json"
    "$TXFLOW" run "$tmp/unsafe.json" --for 1s >"$tmp/unsafe.log" 2>&1
    rc=$?
    if [ "$rc" -eq 1 ] && grep -qF "writable by group or others (mode 0664) (run \`chmod go-w $tmp/unsafe.json\`)" \
        "$tmp/unsafe.log"; then
        pass "as root, a schedule file group may write is refused, naming chmod go-w"
    else
        fail "unsafe schedule file: rc=$rc" "$tmp/unsafe.log"
    fi
    chmod 644 "$tmp/unsafe.json"
    chown nobody "$tmp/unsafe.json"
    "$TXFLOW" run "$tmp/unsafe.json" --for 1s >"$tmp/unowned.log" 2>&1
    rc=$?
    if [ "$rc" -eq 1 ] && grep -qF "(run \`chown root $tmp/unsafe.json\`, or run the daemon as that user)" \
        "$tmp/unowned.log"; then
        pass "as root, a schedule file root does not own is refused, naming chown root"
    else
        fail "unowned schedule file: rc=$rc" "$tmp/unowned.log"
    fi
else
    pass "(not root: the schedule-file owner rule is not checked)"
fi

# ---------------------------------------------------------------- output cap
set_soon
cat >"$tmp/big.json" <<JSON
{"version": 1, "jobs": [
  {"name": "big", "at": "$soon",
   "command": {"argv": ["sh", "-c", "head -c 100000000 /dev/zero | tr '\\\\0' x; echo; echo done"]}}]}
JSON
"$TXFLOW" run "$tmp/big.json" --for 6s >"$tmp/big.log" 2>&1 &
big_pid=$!
pids+=("$big_pid")
# The daemon's peak resident memory, sampled until it exits (at most 30 s).
peak_kb=0
for _ in $(seq 1 300); do
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$big_pid/status" 2>/dev/null)
    [ -n "$hwm" ] && [ "$hwm" -gt "$peak_kb" ] && peak_kb=$hwm
    kill -0 "$big_pid" 2>/dev/null || break
    sleep 0.1
done
wait "$big_pid"
rc=$?
# Sanitizer runtimes have large shadow memory of their own: no bound there.
mem_limit_kb=65536
if ldd "$TXFLOW" 2>/dev/null | grep -qE 'lib(asan|tsan)\.'; then mem_limit_kb=$((peak_kb + 1)); fi
# The command's lines as logged (the text after "stdout: "), and the note.
output_bytes=$(grep -F "[big] stdout: " "$tmp/big.log" | sed 's/^.*\[big\] stdout: //' | wc -c)
notes=$(grep -cF "bytes not logged (the log keeps the first 32768 and the last 32768 bytes of a run)" "$tmp/big.log")
log_bytes=$(wc -c <"$tmp/big.log")
if [ "$rc" -eq 0 ] && [ "$output_bytes" -le 65536 ] && [ "$notes" -eq 1 ] && [ "$log_bytes" -lt 70000 ] &&
    grep -qF "[big] stdout: done" "$tmp/big.log" && grep -qF "[big] succeeded" "$tmp/big.log" &&
    [ "$peak_kb" -gt 0 ] && [ "$peak_kb" -lt "$mem_limit_kb" ]; then
    pass "a command printing 100 MB leaves $output_bytes bytes of its output and one note in a $log_bytes-byte log (daemon peak ${peak_kb} KiB)"
else
    fail "output cap: rc=$rc output=$output_bytes notes=$notes log=$log_bytes peak=${peak_kb}KiB" "$tmp/big.log"
fi

# ---------------------------------------------------------------- environment allow-list
set_soon
cat >"$tmp/env.json" <<JSON
{"version": 1, "jobs": [
  {"name": "env", "at": "$soon",
   "command": {"argv": ["sh", "-c", "echo \"[\$TXFLOW_HARDEN_DAEMON][\$TXFLOW_HARDEN_ALLOWED][\$TXFLOW_JOB]\""],
               "inherit_env": false, "env_allow": ["PATH", "TXFLOW_HARDEN_ALLOWED"]}}]}
JSON
TXFLOW_HARDEN_DAEMON=daemon-only TXFLOW_HARDEN_ALLOWED=allowed \
    "$TXFLOW" run "$tmp/env.json" --for 3s >"$tmp/env.log" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -qF "[env] stdout: [][allowed][env]" "$tmp/env.log"; then
    pass "inherit_env false: the command sees only the allowed variables and TXFLOW_*"
else
    fail "env allow-list: rc=$rc" "$tmp/env.log"
fi

# ---------------------------------------------------------------- secrets
secret="s3cr3t-$$-value"
literal="literal-$$-value"
printf '%s\n' "$secret" >"$tmp/pg.secret"
chmod 600 "$tmp/pg.secret"
set_soon
cat >"$tmp/secret.json" <<JSON
{"version": 1, "state_dir": "secret-state",
 "sagas": [{"name": "s", "steps": [{"name": "use", "no_compensation": true,
   "command": {"argv": ["sh", "-c", "test \"\$PGPASSWORD\" = $secret && echo TXFLOW_DATA '{\"checked\": true}'"],
               "env": {"PGPASSWORD": {"file": "pg.secret"}, "TOKEN": "$literal"}}}]}],
 "jobs": [
  {"name": "db", "at": "$soon",
   "command": {"argv": ["sh", "-c", "test \"\$PGPASSWORD\" = $secret && test \"\$TOKEN\" = $literal && echo ok"],
               "env": {"PGPASSWORD": {"file": "pg.secret"}, "TOKEN": "$literal"}}},
  {"name": "saga", "at": "$soon", "saga": "s", "input": {"n": 1}}]}
JSON
"$TXFLOW" run "$tmp/secret.json" --for 3s --log-format json >"$tmp/secret.log" 2>&1
rc=$?
"$TXFLOW" wal dump "$tmp/secret-state" >"$tmp/secret.dump" 2>&1
dump_rc=$?
if [ "$rc" -eq 0 ] && [ "$dump_rc" -eq 0 ] && grep -qF '"msg":"ok","job":"db"' "$tmp/secret.log" &&
    grep -qF 'checked' "$tmp/secret.dump" &&
    ! grep -qF -e "$secret" -e "$literal" "$tmp/secret.log" "$tmp/secret.dump"; then
    pass "a secret file reaches the command, and no environment value is in the log or wal dump"
else
    fail "secrets: rc=$rc dump_rc=$dump_rc" "$tmp/secret.log"
fi

chmod 640 "$tmp/pg.secret"
"$TXFLOW" run "$tmp/secret.json" --for 1s >"$tmp/secret-bad.log" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && grep -qF "/jobs/0/command/env/PGPASSWORD: secret file $tmp/pg.secret is accessible by group or others (mode 0640): run \`chmod 600 $tmp/pg.secret\`" \
    "$tmp/secret-bad.log" && ! grep -qF "$secret" "$tmp/secret-bad.log"; then
    pass "a secret file group may read is refused at its pointer, naming chmod 600"
else
    fail "secret permissions: rc=$rc" "$tmp/secret-bad.log"
fi

# ---------------------------------------------------------------- run as another user
if [ "$(id -u)" -eq 0 ]; then
    set_soon
    cat >"$tmp/user.json" <<JSON
{"version": 1, "jobs": [
  {"name": "as-nobody", "at": "$soon", "command": {"argv": ["id", "-u"], "cwd": "/", "user": "nobody"}},
  {"name": "as-root", "at": "$soon", "command": {"argv": ["id", "-u"], "cwd": "/"}}]}
JSON
    "$TXFLOW" run "$tmp/user.json" --for 3s >"$tmp/user.log" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ] && grep -qF "[as-nobody] stdout: $(id -u nobody)" "$tmp/user.log" &&
        grep -qF "[as-root] stdout: 0" "$tmp/user.log" &&
        grep -qF "the daemon runs as root and 1 command(s) have no \"user\", so they run as root: /jobs/1/command" \
            "$tmp/user.log"; then
        pass "as root: \"user\": \"nobody\" runs the command as nobody; a command without a user is warned about"
    else
        fail "user: rc=$rc" "$tmp/user.log"
    fi
else
    pass "(not root: running commands as another user is not checked)"
fi

finish "hardening CLI: all checks passed"
