# shellcheck shell=bash
# Sourced, after cli_common.sh, by the CLI tests that need PostgreSQL: set
# `schema` first. Without TXFLOW_PG_URL the test exits 77 (ctest: skipped),
# which under CI=true is a failure instead. Gives URL, sql (one statement,
# bare output), drop_schema, and an EXIT trap that drops the schema.
if [ -z "${TXFLOW_PG_URL:-}" ]; then
    if [ "${CI:-}" = "true" ]; then
        echo "FAIL: TXFLOW_PG_URL is not set and CI=true: the PostgreSQL tests must run"
        exit 1
    fi
    echo "SKIPPED: TXFLOW_PG_URL is not set (start a server: eval \"\$(scripts/pg-dev start)\")"
    exit 77
fi
command -v psql >/dev/null 2>&1 || {
    echo "FAIL: psql is missing (Debian's postgresql-client)"
    exit 1
}
URL="$TXFLOW_PG_URL"
sql() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$URL" -c "$1"; }
drop_schema() { sql "SET client_min_messages = warning; DROP SCHEMA IF EXISTS \"$schema\" CASCADE" >/dev/null 2>&1; }
trap 'drop_schema; cleanup' EXIT
