#!/usr/bin/env bash
# `txflow run` under systemd's Type=notify protocol, without systemd: a Python
# listener binds a unix datagram socket, NOTIFY_SOCKET points the daemon at
# it, and the messages must arrive in order: READY=1 (after recovery), then on
# SIGHUP RELOADING=1 and READY=1 again, WATCHDOG=1 pings at half of
# WATCHDOG_USEC, STOPPING=1 when the drain starts. Run by CTest
# (tools/CMakeLists.txt) as
#   systemd_cli_test.sh <path to the txflow binary> <1 if built with libsystemd>
# Without libsystemd (or python3) it exits 77 (skipped); under CI=true that fails.
cli_usage="systemd_cli_test.sh <txflow binary> <0|1: built with libsystemd>"
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../support/cli_common.sh
source "$here/../support/cli_common.sh"
with_systemd="${2:?usage: $cli_usage}"

fail() {
    failures=$((failures + 1))
    printf 'FAIL: %s\n' "$1"
    [ -n "${2:-}" ] && [ -f "$2" ] && sed 's/^/  | /' "$2"
}

skip() {
    if [ "${CI:-}" = "true" ]; then
        echo "FAIL: $1 (CI=true requires it: scripts/lib/deps.sh)"
        exit 1
    fi
    echo "SKIPPED: $1"
    exit 77
}
[ "$with_systemd" = "1" ] || skip "txflow built without libsystemd (Debian libsystemd-dev)"
command -v python3 >/dev/null 2>&1 || skip "no python3"

# wait_for FILE PATTERN: true once a line of FILE matches (bounded: 10 s).
wait_for() {
    for _ in $(seq 1 100); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# The listener: one line per datagram, newlines inside a message as '|'.
sock="$tmp/notify.sock"
python3 - "$sock" "$tmp/messages" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
with open(sys.argv[2] + ".tmp", "w") as out:
    out.write("listening\n")
import os
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
with open(sys.argv[2], "a", buffering=1) as out:
    try:
        while True:
            data = s.recv(4096).decode()
            out.write(data.replace("\n", "|") + "\n")
            if "STOPPING=1" in data:
                break
    except socket.timeout:
        pass
PY
listener=$!
pids+=("$listener")
wait_for "$tmp/messages" '^listening$' || fail "the listener did not start"

mkdir -p "$tmp/state"
chmod 700 "$tmp/state"
cat >"$tmp/notify.json" <<JSON
{"version": 1, "state_dir": "$tmp/state", "jobs": [
  {"name": "tick", "cron": "* * * * * *",
   "command": {"argv": ["sh", "-c", "echo \"\${NOTIFY_SOCKET-unset} \${WATCHDOG_USEC-unset}\" > $tmp/child-env"]}}]}
JSON
# WATCHDOG_USEC=400000 and no WATCHDOG_PID: pings every 200 ms.
NOTIFY_SOCKET="$sock" WATCHDOG_USEC=400000 \
    "$TXFLOW" run "$tmp/notify.json" --for 30s --drain 1s >"$tmp/daemon.log" 2>&1 &
pid=$!
pids+=("$pid")

if wait_for "$tmp/messages" '^READY=1'; then
    pass "READY=1 once the daemon runs"
else
    fail "no READY=1" "$tmp/messages"
fi
grep -q '^READY=1|STATUS=running 1 job(s), 0 saga(s)$' "$tmp/messages" ||
    fail "READY=1 without its STATUS line" "$tmp/messages"

# The commands do not get systemd's socket: they could speak for the daemon.
if wait_for "$tmp/child-env" '.'; then
    if grep -qx 'unset unset' "$tmp/child-env"; then
        pass "commands run without NOTIFY_SOCKET and WATCHDOG_USEC"
    else
        fail "a command inherited systemd's variables: $(cat "$tmp/child-env")"
    fi
else
    fail "the tick job did not run" "$tmp/daemon.log"
fi

kill -HUP "$pid"
if wait_for "$tmp/messages" '^RELOADING=1$' && wait_for "$tmp/daemon.log" 'reloaded'; then
    pass "SIGHUP: RELOADING=1"
else
    fail "no RELOADING=1 after SIGHUP" "$tmp/messages"
fi

# At least 3 pings at 200 ms: bounded by the 10 s of wait_for per step.
for _ in $(seq 1 100); do
    [ "$(grep -c '^WATCHDOG=1$' "$tmp/messages")" -ge 3 ] && break
    sleep 0.1
done
if [ "$(grep -c '^WATCHDOG=1$' "$tmp/messages")" -ge 3 ]; then
    pass "WATCHDOG=1 pings at half of WATCHDOG_USEC"
else
    fail "fewer than 3 WATCHDOG=1 pings" "$tmp/messages"
fi

kill -TERM "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 0 ] || fail "txflow run exited $rc after SIGTERM" "$tmp/daemon.log"
if wait_for "$tmp/messages" '^STOPPING=1$'; then
    pass "STOPPING=1 on SIGTERM"
else
    fail "no STOPPING=1" "$tmp/messages"
fi
wait "$listener"

# The order of the protocol: READY, RELOADING, READY again, STOPPING last.
order=$(grep -v -e '^WATCHDOG=1$' -e '^listening$' "$tmp/messages" | sed 's/|.*//' | tr '\n' ' ')
if [ "$order" = "READY=1 RELOADING=1 READY=1 STOPPING=1 " ]; then
    pass "in order: $order"
else
    fail "messages out of order: $order" "$tmp/messages"
fi

finish "systemd notify: all checks passed"
