# shellcheck shell=bash
# A throwaway PostgreSQL server for the tests (source it, don't run it).
#
#   txflow_pg_start   initdb + pg_ctl start into a fresh temp dir, on 127.0.0.1 and
#                     a free private port; exports TXFLOW_PG_URL
#                     (postgresql://postgres@127.0.0.1:PORT/postgres) and stops
#                     the server on exit (an EXIT trap)
#   txflow_pg_stop    stops it now and removes its directory (idempotent)
#
# initdb refuses to run as root, so as root the server runs as the `postgres`
# user (Debian's postgresql package creates it). Needs Debian's `postgresql`.
# A developer running ctest by hand: scripts/pg-dev start|stop|url.

TXFLOW_PG_DIR="${TXFLOW_PG_DIR:-}"

# The server binaries: pg_config --bindir prints /usr/bin on Debian, where only
# wrappers live; initdb and pg_ctl are in /usr/lib/postgresql/<major>/bin.
txflow_pg_bindir() {
    local dir
    for dir in "$(pg_config --bindir 2>/dev/null)" /usr/lib/postgresql/*/bin; do
        if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
        fi
    done | sort -V | tail -n 1
}

# A port nobody listens on, from the private range (bounded tries).
txflow_pg_free_port() {
    local port i
    for ((i = 0; i < 50; i++)); do
        port=$((20000 + RANDOM % 20000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

# Runs a server binary as the owner of the data directory.
txflow_pg_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

txflow_pg_start() {
    local bindir port
    bindir="$(txflow_pg_bindir)"
    if [ -z "$bindir" ]; then
        echo "txflow: no PostgreSQL server binaries (initdb, pg_ctl): install Debian's postgresql" >&2
        return 1
    fi
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
        echo "txflow: running as root and there is no postgres user to run initdb as" >&2
        return 1
    fi
    port="$(txflow_pg_free_port)" || {
        echo "txflow: no free port for PostgreSQL" >&2
        return 1
    }
    TXFLOW_PG_DIR="$(mktemp -d /tmp/txflow-pg.XXXXXX)"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$TXFLOW_PG_DIR"
    chmod 700 "$TXFLOW_PG_DIR"
    if ! txflow_pg_as_owner "$bindir/initdb" -D "$TXFLOW_PG_DIR/data" -A trust -U postgres \
        >"$TXFLOW_PG_DIR/initdb.log" 2>&1; then
        cat "$TXFLOW_PG_DIR/initdb.log" >&2
        echo "txflow: initdb failed" >&2
        return 1
    fi
    # Unix socket in the temp dir (not /var/run/postgresql); TCP on loopback only.
    if ! txflow_pg_as_owner "$bindir/pg_ctl" -D "$TXFLOW_PG_DIR/data" -w -t 60 -l "$TXFLOW_PG_DIR/log" \
        -o "-p $port -k $TXFLOW_PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=200 -c max_prepared_transactions=64" start >/dev/null; then
        cat "$TXFLOW_PG_DIR/log" >&2
        echo "txflow: pg_ctl start failed" >&2
        return 1
    fi
    export TXFLOW_PG_URL="postgresql://postgres@127.0.0.1:$port/postgres"
    export TXFLOW_PG_DIR
    trap txflow_pg_stop EXIT
    echo "txflow: PostgreSQL at $TXFLOW_PG_URL (data in $TXFLOW_PG_DIR)" >&2
}

txflow_pg_stop() {
    [ -n "$TXFLOW_PG_DIR" ] && [ -d "$TXFLOW_PG_DIR" ] || return 0
    local bindir
    bindir="$(txflow_pg_bindir)"
    if [ -f "$TXFLOW_PG_DIR/data/postmaster.pid" ]; then
        txflow_pg_as_owner "$bindir/pg_ctl" -D "$TXFLOW_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$TXFLOW_PG_DIR"
    TXFLOW_PG_DIR=""
    unset TXFLOW_PG_URL
}
