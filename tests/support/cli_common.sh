# shellcheck shell=bash
# Shared preamble of the CLI tests (tests/cli/*_cli_test.sh), sourced from
# each script with the script's own arguments:
#   here="$(cd "$(dirname "$0")" && pwd)"
#   source "$here/../support/cli_common.sh"
# It sets TXFLOW (the binary, from $1), TZ=UTC, a scratch directory $tmp that
# is removed on exit (with every daemon pid added to pids killed first), and
# the helpers below. A script may define its own fail() after sourcing this.
# Before sourcing, a script with more arguments may set cli_usage.

set -u

TXFLOW="${1:?usage: ${cli_usage:-${0##*/} <path to the txflow binary>}}"
export TZ=UTC  # the tool must not depend on the machine's zone anyway

failures=0
tmp="$(mktemp -d)"
pids=()
cleanup() {
    for p in "${pids[@]+"${pids[@]}"}"; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT

# shellcheck disable=SC2034  # for the scripts' messages
nl=$'\n'

# run ARGS...: runs txflow, leaving $out, $err and $rc (and $last_cmd for fail).
run() {
    last_cmd="$*"
    "$TXFLOW" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    out="$(cat "$tmp/out")"
    err="$(cat "$tmp/err")"
}

# fail MESSAGE: counts a failure and shows the last run.
fail() {
    failures=$((failures + 1))
    printf 'FAIL: %s\n  command: txflow %s\n  exit: %s\n  stdout: %s\n  stderr: %s\n' \
        "$1" "$last_cmd" "$rc" "$out" "$err"
}

pass() { printf 'ok: %s\n' "$1"; }

# finish SUMMARY: exits 1 if any check failed, else prints SUMMARY.
finish() {
    if [ "$failures" -ne 0 ]; then
        printf '%d check(s) failed\n' "$failures"
        exit 1
    fi
    printf '%s\n' "$1"
}
