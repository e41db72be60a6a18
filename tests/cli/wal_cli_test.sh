#!/usr/bin/env bash
# End-to-end checks of `txflow wal verify|dump|repair`: exit codes, summary
# lines, JSON lines, that verify and dump change nothing, and what repair cuts. Run by CTest
# (tools/CMakeLists.txt) as
#   wal_cli_test.sh <path to txflow> <path to wal_cli_fixture>
cli_usage="wal_cli_test.sh <txflow> <wal_cli_fixture>"
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../support/cli_common.sh
source "$here/../support/cli_common.sh"
FIXTURE="${2:?usage: $cli_usage}"

# expect NAME RC: the last run exited with RC.
expect_rc() { [ "$rc" -eq "$2" ] || { fail "$1: exit $rc, want $2"; return 1; }; }
# has NAME TEXT WHERE: $out or $err contains TEXT.
has() {
    local name="$1" text="$2" where="${3:-out}" hay
    if [ "$where" = err ]; then hay="$err"; else hay="$out"; fi
    case "$hay" in
        *"$text"*) return 0 ;;
        *) fail "$name: $where lacks: $text"; return 1 ;;
    esac
}

# A checksum of every file in a directory (names and contents).
digest() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum) | sha256sum; }

make_wal() {
    "$FIXTURE" "$@" || { echo "FAIL: wal_cli_fixture $*"; exit 1; }
}

# ---------------------------------------------------------------- clean
clean="$tmp/clean"
make_wal "$clean" 20 5
before="$(digest "$clean")"
run wal verify "$clean"
if expect_rc "verify clean" 0 && has "verify clean" "status: ok" && has "verify clean" "snapshot: seq 5, 10 bytes" &&
    has "verify clean" "dir: $clean"; then
    pass "verify: a clean WAL, exit 0 and a summary"
fi
run wal dump "$clean"
first_line="$(printf '%s\n' "$out" | head -n 1)"
second_line="$(printf '%s\n' "$out" | sed -n 2p)"
lines="$(printf '%s\n' "$out" | wc -l)"
if expect_rc "dump clean" 0; then
    # The snapshot line, then every record on disk: 1..20 (the snapshot at 5
    # covers no whole segment, so nothing was compacted).
    if [ "$first_line" != '{"snapshot_seq":5,"bytes":10}' ]; then
        fail "dump: the first line is the snapshot's; got $first_line"
    elif [ "$lines" -ne 21 ]; then
        fail "dump: want 21 lines, got $lines"
    elif ! printf '%s\n' "$out" | tail -n 1 | grep -q '^{.*"seq":20[,}]'; then
        fail "dump: the last line is seq 20"
    else
        case "$second_line" in
            '{'*'"seq":1,'*'}' | '{'*'"seq":1}') pass "dump: the snapshot line, then one JSON line per record" ;;
            *) fail "dump: records are JSON objects with their seq; got $second_line" ;;
        esac
    fi
fi
run wal dump "$clean" --after 18
if expect_rc "dump --after" 0 && [ "$(printf '%s\n' "$out" | wc -l)" -eq 3 ] &&
    printf '%s\n' "$out" | sed -n 2p | grep -q '"seq":19[,}]'; then
    pass "dump --after: only later records"
else
    fail "dump --after 18: want the snapshot line and seqs 19, 20"
fi
if [ "$(digest "$clean")" = "$before" ]; then pass "verify and dump change nothing"; else fail "the directory changed"; fi
# --json: one object with the same records (docs/cli.md), parsed key by key.
# json_check FILTER: runs the Python expression FILTER on the parsed $out (d).
json_check() {
    printf '%s' "$out" | python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(0 if ('"$1"') else 1)'
}
run wal dump "$clean" --json
if expect_rc "dump --json" 0 && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] &&
    json_check 'd["dir"] == "'"$clean"'" and d["snapshot"] == {"seq": 5, "bytes": 10} and
        [r["seq"] for r in d["records"]] == list(range(1, 21)) and d["torn_tail"] is None and d["error"] is None'; then
    pass "dump --json: one object, the snapshot and records 1..20"
else
    fail "dump --json: want {dir, snapshot {seq 5, bytes 10}, records 1..20, torn_tail null, error null}"
fi
run wal dump "$clean" --json --after 18
if expect_rc "dump --json --after" 0 && json_check '[r["seq"] for r in d["records"]] == [19, 20]'; then
    pass "dump --json --after: only later records"
else
    fail "dump --json --after 18: want records 19, 20"
fi

# ---------------------------------------------------------------- torn tail
torn="$tmp/torn"
make_wal "$torn" 20
last="$(find "$torn" -name '*.wal' | sort | tail -n 1)"
size="$(stat -c %s "$last")"
truncate -s $((size - 3)) "$last"
before="$(digest "$torn")"
run wal verify "$torn"
if expect_rc "verify torn" 0 && has "verify torn" "torn tail: $last at byte" && has "verify torn" "warning"; then
    pass "verify: a torn tail is a warning, exit 0"
fi
run wal dump "$torn"
if expect_rc "dump torn" 0 && has "dump torn" "torn" err && ! printf '%s\n' "$out" | grep -q '"seq":20[,}]'; then
    pass "dump: stops before the torn record, with a note"
fi
if [ "$(digest "$torn")" = "$before" ]; then pass "verify of a torn WAL truncates nothing"; else fail "verify changed a torn WAL"; fi

# ---------------------------------------------------------------- corruption
bad="$tmp/bad"
make_wal "$bad" 20
first="$(find "$bad" -name '*.wal' | sort | head -n 1)"
# Record 1 starts at byte 32 (after the segment header); its payload at 32 + 28.
printf 'Z' | dd of="$first" bs=1 seek=62 conv=notrunc status=none
run wal verify "$bad"
if expect_rc "verify corrupt" 1 && has "verify corrupt" "status: corrupt" &&
    has "verify corrupt" "$(basename "$first") at byte 32: bad crc" err; then
    pass "verify: corruption names the segment and offset, exit 1"
fi
run wal dump "$bad"
if expect_rc "dump corrupt" 1 && has "dump corrupt" "at byte 32" err; then pass "dump: corruption exits 1"; fi
run wal dump "$bad" --json
if expect_rc "dump --json corrupt" 1 && json_check '"at byte 32" in d["error"] and isinstance(d["records"], list)'; then
    pass "dump --json: corruption exits 1, the object has the records before it and the error"
else
    fail "dump --json corrupt: want exit 1 and an error naming byte 32"
fi

# ---------------------------------------------------------------- repair
run wal verify "$bad"
has "verify corrupt" "txflow wal repair $bad" && pass "verify: a corrupt log points at txflow wal repair"
run wal repair "$clean"
if expect_rc "repair clean" 0 && has "repair clean" "status: ok, nothing to repair" && has "repair clean" "kept: 20 record(s)"; then
    pass "repair: a clean WAL needs nothing, exit 0"
fi
cut="$tmp/cut"
make_wal "$cut" 40
second="$(find "$cut" -name '*.wal' | sort | sed -n 2p)"
second_first_seq=$((10#$(basename "$second" .wal)))
printf 'Z' | dd of="$second" bs=1 seek=62 conv=notrunc status=none
run wal repair "$cut"
if expect_rc "repair corrupt" 0 && has "repair corrupt" "cut: $second at byte 32: bad crc" &&
    has "repair corrupt" "removed segment: " && has "repair corrupt" "kept: $((second_first_seq - 1)) record(s), seq 1..$((second_first_seq - 1))" &&
    has "repair corrupt" "status: repaired"; then
    pass "repair: cuts at the first bad record and says what it dropped"
fi
run wal verify "$cut"
expect_rc "verify after repair" 0 && has "verify after repair" "status: ok" && pass "repair: the log verifies clean afterwards"
badsnap="$tmp/badsnap"
make_wal "$badsnap" 20 5
snap="$(find "$badsnap" -name '*.snap' | head -n 1)"
printf 'Z' | dd of="$snap" bs=1 seek=40 conv=notrunc status=none
run wal repair "$badsnap"
if expect_rc "repair of a damaged snapshot" 1 && has "repair of a damaged snapshot" "cannot repair" err; then
    pass "repair: a damaged snapshot cannot be repaired, exit 1"
fi
run wal repair
expect_rc "repair without DIR" 2 && pass "repair without DIR: exit 2"

# ---------------------------------------------------------------- empty and usage
mkdir -p "$tmp/empty"
run wal verify "$tmp/empty"
if expect_rc "verify empty" 0 && has "verify empty" "segments: 0" && has "verify empty" "records: 0"; then
    pass "verify: an empty directory is a clean, empty log"
fi
run wal verify
expect_rc "verify without DIR" 2 && pass "verify without DIR: exit 2"
run wal verify "$tmp/does-not-exist"
expect_rc "verify of a missing dir" 2 && pass "verify of a missing directory: exit 2"
run wal
expect_rc "wal without a subcommand" 2 && pass "wal without a subcommand: exit 2"
run wal dump "$clean" --after minus-one
expect_rc "dump --after garbage" 2 && pass "dump --after garbage: exit 2"

finish "all wal CLI checks passed"
