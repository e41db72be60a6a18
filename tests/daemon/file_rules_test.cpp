// The daemon's file rules: the state directory created 0700 with 0600 files
// whatever the umask, one that others may write refused; a schedule file
// that a root daemon refuses; secret files and their permissions.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/test_support.hpp"
#include "txflow/daemon/daemon.hpp"
#include "txflow/daemon/safety.hpp"
#include "txflow/store/wal_store.hpp"

namespace file_rules_test {

using txflow::daemon::read_secret;
using txflow::daemon::unsafe_schedule_file;
using txflow::store::WalOptions;
using txflow::store::WalStore;
using txflow::test::TempDir;

namespace {

unsigned mode_of(const std::filesystem::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return static_cast<unsigned>(st.st_mode) & 07777U;
}

// Sets the umask for a scope (the process's: these tests start no threads that create files).
struct Umask {
    explicit Umask(mode_t m) : old(::umask(m)) {}
    ~Umask() { ::umask(old); }
    Umask(const Umask&) = delete;
    Umask& operator=(const Umask&) = delete;
    mode_t old;
};

void write_file(const std::filesystem::path& p, const std::string& text, unsigned mode) {
    { std::ofstream(p) << text; }
    REQUIRE(::chmod(p.c_str(), static_cast<mode_t>(mode)) == 0);
}

}  // namespace

TEST_CASE("state dir: created 0700 with 0600 segments and snapshots, whatever the umask", "[daemon][files]") {
    TempDir tmp{"modes"};
    for (const mode_t mask : {mode_t{0}, mode_t{022}, mode_t{077}}) {
        INFO("umask " << mask);
        const auto dir = tmp.path() / ("state-" + std::to_string(mask)) / "wal";
        {
            const Umask umask(mask);
            WalOptions o;
            o.dir = dir;
            auto store = WalStore::open(o);
            REQUIRE(store);
            REQUIRE((*store)->append(1, "secret saga input"));
            REQUIRE((*store)->write_snapshot(1, "state"));
            REQUIRE((*store)->close());
        }
        CHECK(mode_of(dir) == 0700U);
        std::size_t files = 0;
        for (const auto& entry : std::filesystem::directory_iterator(dir)) {
            if (!entry.is_regular_file()) continue;
            INFO(entry.path());
            CHECK(mode_of(entry.path()) == 0600U);
            ++files;
        }
        CHECK(files >= 2);  // a segment and a snapshot
    }
}

TEST_CASE("state dir: one that group or others may write is refused, naming the fix", "[daemon][files]") {
    TempDir tmp{"unsafe-state"};
    const auto dir = tmp.path() / "state";
    std::filesystem::create_directory(dir);
    REQUIRE(::chmod(dir.c_str(), 0777) == 0);
    WalOptions o;
    o.dir = dir;
    auto store = WalStore::open(o);
    REQUIRE_FALSE(store);
    CHECK(store.error().message == "state directory " + dir.string() +
                                       " is writable by group or others (mode 0777): run `chmod 700 " + dir.string() +
                                       "`");

    // Through the daemon: the problem is at /state_dir.
    auto file = txflow::schedule_file::parse_text(R"({"version": 1, "state_dir": "state", "jobs": []})", tmp.path());
    REQUIRE(file);
    auto daemon = txflow::daemon::Daemon::create(std::move(*file));
    REQUIRE_FALSE(daemon);
    REQUIRE(daemon.error().size() == 1);
    CHECK(daemon.error()[0].pointer == "/state_dir");
    CHECK(daemon.error()[0].reason.find("run `chmod 700 " + dir.string() + "`") != std::string::npos);

    // An existing private directory (0750 too: only writing matters) is fine.
    REQUIRE(::chmod(dir.c_str(), 0750) == 0);
    CHECK(WalStore::open(o));
}

TEST_CASE("schedule file: a root daemon refuses one others may write or root does not own", "[daemon][files]") {
    TempDir tmp{"unsafe-file"};
    const auto path = tmp.path() / "schedule.json";
    write_file(path, "{}", 0644);
    if (::geteuid() != 0) {
        CHECK_FALSE(unsafe_schedule_file(path));  // only a root daemon checks
        return;
    }
    CHECK_FALSE(unsafe_schedule_file(path));
    REQUIRE(::chmod(path.c_str(), 0664) == 0);
    CHECK(unsafe_schedule_file(path) ==
          path.string() +
              ": refused: the daemon runs as root and the file is writable by group or others (mode 0664) (run "
              "`chmod go-w " +
              path.string() + "`)");
    REQUIRE(::chmod(path.c_str(), 0644) == 0);
    REQUIRE(::chown(path.c_str(), 65534, 65534) == 0);
    CHECK(unsafe_schedule_file(path) ==
          path.string() +
              ": refused: the daemon runs as root and the file is owned by uid 65534, who could then run commands "
              "as root (run `chown root " +
              path.string() + "`, or run the daemon as that user)");
}

TEST_CASE("secrets: read from a private file, refused when others may read it", "[daemon][files]") {
    TempDir tmp{"secrets"};
    const auto path = tmp.path() / "pg";
    write_file(path, "hunter2\n", 0600);
    auto value = read_secret(path);
    REQUIRE(value);
    CHECK(*value == "hunter2");  // one trailing newline dropped

    REQUIRE(::chmod(path.c_str(), 0640) == 0);
    auto readable = read_secret(path);
    REQUIRE_FALSE(readable);
    CHECK(readable.error() == "secret file " + path.string() +
                                  " is accessible by group or others (mode 0640): run `chmod 600 " + path.string() +
                                  "`");
    CHECK(readable.error().find("hunter2") == std::string::npos);

    auto missing = read_secret(tmp.path() / "none");
    REQUIRE_FALSE(missing);
    CHECK(missing.error() == "secret file " + (tmp.path() / "none").string() + ": No such file or directory");

    write_file(path, std::string(70'000, 'x'), 0600);
    auto big = read_secret(path);
    REQUIRE_FALSE(big);
    CHECK(big.error() == "secret file " + path.string() + " is over the 64 KiB limit");
}

TEST_CASE("secrets: the daemon refuses to start on an unreadable one, at its pointer", "[daemon][files]") {
    TempDir tmp{"secret-daemon"};
    write_file(tmp.path() / "pg", "hunter2", 0644);
    auto file = txflow::schedule_file::parse_text(R"({"version": 1, "jobs": [{"name": "a", "every": "1h",
        "command": {"argv": ["true"], "env": {"PGPASSWORD": {"file": "pg"}}}}]})",
                                                  tmp.path());
    REQUIRE(file);
    auto daemon = txflow::daemon::Daemon::create(std::move(*file));
    REQUIRE_FALSE(daemon);
    REQUIRE(daemon.error().size() == 1);
    CHECK(daemon.error()[0].pointer == "/jobs/0/command/env/PGPASSWORD");
    CHECK(daemon.error()[0].reason.find("run `chmod 600 ") != std::string::npos);
}

}  // namespace file_rules_test
