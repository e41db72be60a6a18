// Atomic transactions of commands in a schedule file: a job starts one a
// fire; prepare votes by its exit status; commit and abort are retried until
// they exit 0; every command sees the transaction's environment.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "daemon/daemon_test_util.hpp"
#include "support/test_support.hpp"

namespace daemon_transaction_test {

using namespace std::chrono_literals;
using txflow::atomic::State;
using txflow::test::TempDir;
using txflow::test::daemon::eventually;
using txflow::test::daemon::Log;
using txflow::test::daemon::LogFormat;
using txflow::test::daemon::make_daemon;

namespace {

std::string read(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// A participant `name` whose phases append "<phase> <key>" to DIR/<name>; its
// prepare runs `prepare_tail` after that (e.g. "exit 3" to vote no).
std::string participant(const TempDir& dir, const std::string& name, const std::string& prepare_tail = "true",
                        const std::string& commit_tail = "true") {
    const std::string log = (dir.path() / name).string();
    const auto phase = [&](const std::string& tail) {
        return R"({"argv": ["sh", "-c", "echo \"$TXFLOW_PHASE $TXFLOW_IDEMPOTENCY_KEY\" >> )" + log + "; " + tail +
               R"("]})";
    };
    return R"({"name": ")" + name + R"(", "prepare": )" + phase(prepare_tail) + R"(, "commit": )" + phase(commit_tail) +
           R"(, "abort": )" + phase("true") + "}";
}

std::string schedule(const std::string& participants) {
    return R"({"version": 1,
      "jobs": [{"name": "move", "every": "1h", "transaction": "transfer", "input": {"amount": 10}}],
      "transactions": [{"name": "transfer", "prepare_timeout": "5s", "participants": [)" +
           participants + "]}]}";
}

std::optional<txflow::atomic::Info> finished(txflow::daemon::Daemon& d) {
    std::optional<txflow::atomic::Info> out;
    eventually([&] {
        const auto all = d.scheduler().transactions();
        if (all.empty()) return false;
        out = all.front();
        return out->state == State::committed || out->state == State::aborted;
    });
    return out;
}

}  // namespace

TEST_CASE("daemon transactions: every participant votes yes, every one commits", "[config][daemon][atomic]") {
    TempDir dir;
    Log log(LogFormat::text);
    auto d = make_daemon(schedule(participant(dir, "a") + ", " + participant(dir, "b")), log);
    d->start();
    REQUIRE(d->scheduler().find("move")->trigger_now());
    const auto info = finished(*d);
    REQUIRE(info);
    CHECK(info->state == State::committed);
    CHECK(info->definition == "transfer");
    CHECK(info->data["amount"] == 10);
    // Keyed by the job and its fire: a fire run again after a crash finds this one.
    CHECK(info->id.rfind("move@", 0) == 0);
    for (const std::string name : {"a", "b"}) {
        INFO(name);
        CHECK(read(dir.path() / name) ==
              "prepare " + info->id + "/" + name + "/prepare\ncommit " + info->id + "/" + name + "/commit\n");
    }
    d->stop(1s);
}

TEST_CASE("daemon transactions: a prepare that exits non-zero aborts them all", "[config][daemon][atomic]") {
    TempDir dir;
    Log log(LogFormat::text);
    auto d =
        make_daemon(schedule(participant(dir, "a") + ", " + participant(dir, "b", "echo no funds >&2; exit 3")), log);
    d->start();
    REQUIRE(d->scheduler().find("move")->trigger_now());
    const auto info = finished(*d);
    REQUIRE(info);
    CHECK(info->state == State::aborted);
    CHECK(info->reason.find("'b'") != std::string::npos);
    CHECK(info->reason.find("exit code 3") != std::string::npos);
    // a is released (its prepare may have been stopped before it ran: the
    // first no decides at once); nothing committed anywhere.
    const std::string a = read(dir.path() / "a");
    const std::string abort_line = "abort " + info->id + "/a/abort\n";
    CHECK(a.size() >= abort_line.size());
    CHECK(a.substr(a.size() - std::min(a.size(), abort_line.size())) == abort_line);
    CHECK(a.find("commit") == std::string::npos);
    CHECK(read(dir.path() / "b").find("commit") == std::string::npos);
    CHECK(eventually([&] { return log.contains("/b/prepare] stderr: no funds"); }));
    d->stop(1s);
}

TEST_CASE("daemon transactions: a commit that fails twice is called again until it succeeds",
          "[config][daemon][atomic]") {
    TempDir dir;
    Log log(LogFormat::text);
    const std::string count = (dir.path() / "count").string();
    // Fails on its first two calls, then exits 0.
    const std::string flaky =
        "n=$(cat " + count + " 2>/dev/null || echo 0); n=$((n+1)); echo $n > " + count + "; [ $n -ge 3 ]";
    auto d = make_daemon(schedule(participant(dir, "a", "true", flaky)), log);
    d->start();
    REQUIRE(d->scheduler().find("move")->trigger_now());
    const auto info = finished(*d);
    REQUIRE(info);
    CHECK(info->state == State::committed);
    CHECK(read(dir.path() / "count") == "3\n");
    const std::string key = info->id + "/a/commit";
    // The same key on every attempt.
    CHECK(read(dir.path() / "a") ==
          "prepare " + info->id + "/a/prepare\ncommit " + key + "\ncommit " + key + "\ncommit " + key + "\n");
    d->stop(1s);
}

TEST_CASE("daemon transactions: a reload that changes a transaction replaces its jobs", "[config][daemon][atomic]") {
    TempDir dir;
    Log log(LogFormat::text);
    auto d = make_daemon(schedule(participant(dir, "a")), log);
    d->start();
    auto next =
        txflow::schedule_file::parse_text(schedule(participant(dir, "a") + ", " + participant(dir, "b")), "/tmp");
    REQUIRE(next);
    auto report = d->apply(std::move(*next));
    REQUIRE(report);
    CHECK(report->transactions_changed == std::vector<std::string>{"transfer"});
    CHECK(report->replaced == std::vector<std::string>{"move"});
    REQUIRE(d->scheduler().find("move")->trigger_now());
    const auto info = finished(*d);
    REQUIRE(info);
    CHECK(info->state == State::committed);
    CHECK(info->participants.size() == 2);
    d->stop(1s);
}

}  // namespace daemon_transaction_test
