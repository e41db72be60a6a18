#!/usr/bin/env bash
# Fails when a public header includes one of a higher layer (DESIGN.md, "Layers").
# Usage: tests/layering_check.sh [include-dir]   (default: include/ beside this script)
#
# The layer order, lowest first; a header may include its own layer and any
# below it, never one above:
#   0 base       result.hpp
#   1 bottom     cron/ core/ store/ observe/     (no order among them)
#   2 job        job.hpp                          (JobContext, JobFunction, Wrapper, Misfire)
#   3 building   policy/ saga/                    (saga steps take a retry::Policy)
#                cluster/                         (cluster mode on PostgreSQL: the worker, the cron
#                                                  leader; store/ + job.hpp's Misfire + retry::Policy)
#   4 scheduler  scheduler.hpp, txflow.hpp (the umbrella),
#                store/state_dir.hpp (a read-only view of everything a scheduler recovers:
#                dead letters, sagas; the CLI's, not the stores')
#   5 top        daemon/  schedule_file/          (the daemon and the schedule file)
#                http/                            (the embeddable server: /metrics, later the dashboard)
#                testing.hpp, testing/            (the test kit: fixtures on a ManualClock)
set -euo pipefail

root=${1:-"$(cd "$(dirname "$0")/.." && pwd)/include"}
cd "$root"

layer_of() {
    case "$1" in
        txflow/result.hpp) echo 0 ;;
        txflow/store/state_dir.hpp) echo 4 ;;
        txflow/cron/* | txflow/core/* | txflow/store/* | txflow/observe/*) echo 1 ;;
        txflow/job.hpp) echo 2 ;;
        txflow/policy/* | txflow/saga/* | txflow/cluster/*) echo 3 ;;
        txflow/scheduler.hpp | txflow/txflow.hpp) echo 4 ;;
        txflow/config/* | txflow/daemon/* | txflow/schedule_file/* | txflow/http/*) echo 5 ;;
        txflow/testing.hpp | txflow/testing/*) echo 5 ;;
        *) echo "?" ;;
    esac
}

status=0
while IFS= read -r header; do
    from=$(layer_of "$header")
    if [[ $from == "?" ]]; then
        echo "layering: $header is in no layer: add it to tests/layering_check.sh and DESIGN.md" >&2
        status=1
        continue
    fi
    while IFS= read -r included; do
        to=$(layer_of "$included")
        if [[ $to == "?" ]]; then
            echo "layering: $header includes $included, which is in no layer" >&2
            status=1
        elif ((to > from)); then
            echo "layering: $header (layer $from) includes $included (layer $to, higher)" >&2
            status=1
        fi
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\(txflow\/[^"]*\)".*/\1/p' "$header")
done < <(find txflow -name '*.hpp' | sort)

if ((status == 0)); then echo "layering: every public header includes only its own layer or lower ones"; fi
exit $status
