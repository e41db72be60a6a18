# shellcheck shell=bash
# shellcheck disable=SC2034  # the package lists are used by the sourcing scripts
# Shared by scripts/demo, scripts/test and .ci/run (source it, don't run it).
#
#   txflow_ensure_packages pkg...   install the Debian packages that are missing
#   txflow_configure <dir> [cmake args...]
#   txflow_build <dir> [cmake --build args...]

# Everything a full build with tests needs (Debian 12 package names).
# libpq-dev builds PgStore/PgQueue; postgresql is the server the PG tests run
# against (scripts/lib/pg.sh starts a throwaway one).
TXFLOW_BASE_PACKAGES=(
    g++ cmake ninja-build
    libfmt-dev libspdlog-dev libhowardhinnant-date-dev tzdata
    nlohmann-json3-dev libcli11-dev catch2
    libxxhash-dev
    libpq-dev postgresql
    python3
    pkg-config libcpp-httplib-dev  # the embeddable HTTP server (src/http/)
    libcurl4-openssl-dev           # the OTLP span exporter (src/observe/otlp_exporter.cpp)
    prometheus curl                # promtool and a scraper for tests/cli/metrics_cli_test.sh
    libsystemd-dev                 # sd_notify for txflow run under Type=notify (src/daemon/sd_notify.cpp)
    help2man                       # the txflow.1 man page (tools/CMakeLists.txt)
    dpkg-dev systemd doxygen man-db # scripts/package-check: cpack -G DEB, systemd-analyze verify, the docs target, man -w
    chromium chromium-driver python3-selenium  # the dashboard's browser test (tests/browser/)
)
# libFuzzer and clang's sanitizer runtimes (the fuzz job in .ci/run).
TXFLOW_FUZZ_PACKAGES=(clang libclang-rt-14-dev)
# Google Benchmark, for bench targets that use it (cron_bench does not).
# SQLite, the baseline wal_bench measures WalStore against.
TXFLOW_BENCH_PACKAGES=(libbenchmark-dev libsqlite3-dev golang-go golang-github-robfig-cron-dev)  # Go: bench/run_burst_bench.sh

TXFLOW_JOBS="${TXFLOW_JOBS:-$(nproc 2>/dev/null || echo 2)}"

txflow_log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

txflow_package_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

txflow_ensure_packages() {
    if ! command -v dpkg-query >/dev/null 2>&1; then
        txflow_log "not a Debian/Ubuntu system: make sure these are installed: $*"
        return 0
    fi
    local missing=() pkg
    for pkg in "$@"; do
        txflow_package_installed "$pkg" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0

    if [ "$(id -u)" -eq 0 ]; then
        txflow_log "installing: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive  # tzdata asks questions otherwise
        apt-get update
        apt-get install -y --no-install-recommends "${missing[@]}"
    else
        {
            echo "txflow: these Debian packages are missing: ${missing[*]}"
            echo "install them with:"
            echo "    sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}"
            echo "then run this script again."
        } >&2
        return 1
    fi
}

# txflow_configure <build dir> [cmake args...]: Ninja when available (only on
# the first configure: a build dir keeps its generator).
txflow_configure() {
    local dir="$1"
    shift
    local gen=()
    if [ ! -f "$dir/CMakeCache.txt" ] && command -v ninja >/dev/null 2>&1; then
        gen=(-G Ninja)
    fi
    cmake -S "$TXFLOW_ROOT" -B "$dir" "${gen[@]}" "$@"
}

txflow_build() {
    local dir="$1"
    shift
    cmake --build "$dir" --parallel "$TXFLOW_JOBS" "$@"
}
