// The daemon library: a schedule file on a real scheduler, its log formats,
// sagas of commands, and reloads that change only what changed.
#include <catch2/catch.hpp>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/daemon_test_util.hpp"
#include "daemon/log_subject.hpp"
#include "support/test_support.hpp"
#include "txflow/daemon/daemon.hpp"
#include "txflow/store/memory_store.hpp"

namespace daemon_test {

using namespace std::chrono_literals;
using txflow::daemon::Daemon;
using txflow::daemon::DaemonOptions;
using txflow::daemon::LogFormat;
using txflow::schedule_file::parse_text;
using txflow::test::TempDir;
using txflow::test::daemon::eventually;
using txflow::test::daemon::Log;
using txflow::test::daemon::make_daemon;

namespace {

std::vector<std::string> job_names(Daemon& d) {
    std::vector<std::string> names;
    for (const auto& j : d.scheduler().jobs()) names.push_back(j.name);
    std::sort(names.begin(), names.end());
    return names;
}

std::uint64_t run_count(Daemon& d, const std::string& name) {
    auto h = d.scheduler().find(name);
    if (!h) return 0;
    auto info = h->info();
    return info ? info->run_count : 0;
}

}  // namespace

TEST_CASE("daemon: a command job logs its output with the job and stream", "[config][daemon]") {
    Log log(LogFormat::text);
    auto d = make_daemon(R"({"version": 1, "jobs": [
        {"name": "hello", "every": "1h", "command": {"argv": ["sh", "-c", "echo \"hi from $TXFLOW_JOB run $TXFLOW_RUN\"; echo warn >&2"]}}]})",
                         log);
    d->start();
    REQUIRE(d->scheduler().find("hello")->trigger_now());
    REQUIRE(eventually([&] { return log.contains("succeeded in"); }));
    CHECK(log.contains(" info  [hello] stdout: hi from hello run 1"));
    CHECK(log.contains(" info  [hello] stderr: warn"));
    CHECK(log.contains(" info  [hello] started"));
    d->stop(1s);
}

TEST_CASE("daemon: JSON log lines carry the fields", "[config][daemon]") {
    Log log(LogFormat::json);
    auto d = make_daemon(R"({"version": 1, "jobs": [
        {"name": "j", "every": "1h", "command": {"argv": ["sh", "-c", "echo 'say \"hi\"'"]}}]})",
                         log);
    d->start();
    REQUIRE(d->scheduler().find("j")->trigger_now());
    REQUIRE(eventually([&] { return log.contains("succeeded in"); }));
    d->stop(1s);
    bool found = false;
    for (const auto& line : log.lines()) {
        const auto j = nlohmann::json::parse(line);  // every line is one JSON object
        REQUIRE(j.is_object());
        CHECK(j.contains("time"));
        CHECK(j.contains("level"));
        CHECK(j.contains("msg"));
        if (j.value("stream", "") == "stdout") {
            CHECK(j["msg"] == "say \"hi\"");
            CHECK(j["job"] == "j");
            CHECK(j["level"] == "info");
            found = true;
        }
    }
    CHECK(found);
}

TEST_CASE("daemon: JSON log lines from the scheduler and the saga engine carry job, saga id and step",
          "[config][daemon]") {
    Log log(LogFormat::json);
    auto d = make_daemon(R"({"version": 1,
      "jobs": [{"name": "broken", "every": "1h", "command": {"argv": ["sh", "-c", "exit 3"]}},
               {"name": "order", "every": "1h", "saga": "checkout"}],
      "sagas": [{"name": "checkout", "steps": [
        {"name": "reserve", "command": {"argv": ["true"]}, "compensate": {"argv": ["true"]}},
        {"name": "charge", "command": {"argv": ["sh", "-c", "exit 4"]}, "no_compensation": true,
         "retry": {"attempts": 2, "backoff": "fixed", "initial": "10ms"}}]}]})",
                         log);
    d->start();
    REQUIRE(d->scheduler().find("broken")->trigger_now());
    REQUIRE(d->scheduler().find("order")->trigger_now());
    REQUIRE(eventually([&] {
        auto all = d->scheduler().sagas();
        return !all.empty() && all.front().state == txflow::saga::State::compensated;
    }));
    REQUIRE(eventually([&] { return log.contains("job 'broken'"); }));
    d->stop(1s);
    const std::string saga_id = d->scheduler().sagas().front().id;
    bool job_line = false;
    bool step_line = false;
    for (const auto& line : log.lines()) {
        const auto j = nlohmann::json::parse(line);
        const std::string msg = j["msg"];
        if (msg.rfind("job 'broken'", 0) == 0) {
            CHECK(j.value("job", "") == "broken");
            job_line = true;
        }
        if (msg.rfind("saga '" + saga_id + "'", 0) == 0) {
            CHECK(j.value("saga_id", "") == saga_id);
            if (msg.find("step 'charge'") != std::string::npos) {
                CHECK(j.value("step", "") == "charge");
                step_line = true;
            }
        }
    }
    CHECK(job_line);
    CHECK(step_line);
}

TEST_CASE("log fields: the subject of a library message", "[config][log]") {
    using txflow::daemon::detail::fields_in_message;
    const auto job = fields_in_message("job 'nightly backup' attempt 2 failed: exit 1");
    CHECK(job.job == "nightly backup");
    CHECK(job.saga_id.empty());
    const auto step = fields_in_message("saga 'o-7': action of step 'charge' failed (attempt 1): x; retrying in 10 ms");
    CHECK(step.saga_id == "o-7");
    CHECK(step.step == "charge");
    CHECK(step.job.empty());
    CHECK(fields_in_message("stop: job 'slow' still running after the drain deadline").job == "slow");
    CHECK(fields_in_message("saga 'o-7' compensated (step 'charge' failed: exit code 4)").step == "charge");
    // Not a subject: a word ending in "job", or no closing quote.
    CHECK(fields_in_message("cronjob 'x' ran").job.empty());
    CHECK(fields_in_message("job 'unterminated").job.empty());
    CHECK(fields_in_message("running schedule: 2 job(s)").job.empty());
}

TEST_CASE("daemon: a failing command is retried and succeeds", "[config][daemon]") {
    Log log(LogFormat::text);
    auto d = make_daemon(R"({"version": 1, "jobs": [
        {"name": "flaky", "every": "1h",
         "policies": {"retry": {"attempts": 3, "backoff": "fixed", "initial": "50ms"}},
         "command": {"argv": ["sh", "-c", "[ \"$TXFLOW_ATTEMPT\" -ge 2 ] || exit 7; echo ok on $TXFLOW_ATTEMPT"]}}]})",
                         log);
    d->start();
    REQUIRE(d->scheduler().find("flaky")->trigger_now());
    REQUIRE(eventually([&] { return log.contains("[flaky] stdout: ok on 2"); }));
    REQUIRE(eventually([&] { return log.contains("[flaky] succeeded in"); }));
    CHECK(log.contains("job 'flaky' attempt 1 failed: exit code 7"));
    CHECK(log.contains("[flaky] retrying in 50ms (attempt 2)"));
    d->stop(1s);
}

TEST_CASE("daemon: a timeout stops a hanging command", "[config][daemon]") {
    Log log(LogFormat::text);
    auto d = make_daemon(R"({"version": 1, "jobs": [
        {"name": "hang", "every": "1h", "policies": {"timeout": "300ms"}, "command": {"argv": ["sleep", "100"]}}]})",
                         log);
    d->start();
    const auto t0 = std::chrono::steady_clock::now();
    REQUIRE(d->scheduler().find("hang")->trigger_now());
    REQUIRE(eventually([&] {
        auto info = d->scheduler().find("hang")->info();
        return info && info->last_outcome == txflow::Outcome::timed_out;
    }));
    CHECK(std::chrono::steady_clock::now() - t0 < 3s);
    d->stop(1s);
}

TEST_CASE("daemon: a saga of commands compensates when a step fails", "[config][daemon]") {
    Log log(LogFormat::text);
    auto d = make_daemon(R"({"version": 1,
      "jobs": [{"name": "order", "every": "1h", "saga": "checkout", "input": {"order": 7}}],
      "sagas": [{"name": "checkout", "steps": [
        {"name": "reserve", "command": {"argv": ["sh", "-c", "echo 'TXFLOW_DATA {\"reservation\": \"R-1\"}'"]},
         "compensate": {"argv": ["sh", "-c", "echo \"undo $TXFLOW_STEP $TXFLOW_COMPENSATING $TXFLOW_SAGA_DATA\""]}},
        {"name": "charge", "command": {"argv": ["sh", "-c", "echo key=$TXFLOW_IDEMPOTENCY_KEY"]},
         "compensate": {"argv": ["sh", "-c", "echo \"refund: $TXFLOW_SAGA_ERROR\""]}},
        {"name": "ship", "command": {"argv": ["sh", "-c", "exit 3"]}, "no_compensation": true}]}]})",
                         log);
    d->start();
    REQUIRE(d->scheduler().find("order")->trigger_now());
    std::optional<txflow::saga::Info> info;
    REQUIRE(eventually([&] {
        auto all = d->scheduler().sagas();
        if (all.empty()) return false;
        info = all.front();
        return info->state == txflow::saga::State::compensated;
    }));
    CHECK(info->data["reservation"] == "R-1");
    CHECK(info->data["order"] == 7);
    CHECK(log.contains("/charge] stdout: key=" + info->id + "/charge"));
    CHECK(log.contains("/charge/compensate] stdout: refund: "));
    CHECK(log.contains(R"(/reserve/compensate] stdout: undo reserve 1 {"order":7,"reservation":"R-1"})"));
    d->stop(1s);
}

TEST_CASE("daemon: reload adds, removes and replaces jobs, and keeps the rest", "[config][daemon]") {
    Log log(LogFormat::text);
    auto d = make_daemon(R"({"version": 1, "jobs": [
        {"name": "keep", "every": "1h", "command": {"argv": ["true"]}},
        {"name": "change", "every": "1h", "command": {"argv": ["true"]}},
        {"name": "drop", "every": "1h", "command": {"argv": ["true"]}}]})",
                         log);
    d->start();
    REQUIRE(d->scheduler().find("keep")->trigger_now());
    REQUIRE(eventually([&] { return run_count(*d, "keep") == 1; }));

    auto next = parse_text(R"({"version": 1, "jobs": [
        {"name": "keep", "every": "60m", "command": {"argv": ["true"], "cwd": "/tmp"}},
        {"name": "change", "every": "2h", "command": {"argv": ["true"]}},
        {"name": "new", "cron": "0 0 * * *", "command": {"argv": ["true"]}}],
        "workers": 2})",
                           "/tmp");
    REQUIRE(next);
    auto report = d->apply(std::move(*next));
    REQUIRE(report);
    CHECK(report->added == std::vector<std::string>{"new"});
    CHECK(report->removed == std::vector<std::string>{"drop"});
    CHECK(report->replaced == std::vector<std::string>{"change"});
    CHECK(report->unchanged == std::vector<std::string>{"keep"});  // "60m" and "1h" are the same job
    CHECK(report->needs_restart == std::vector<std::string>{"workers"});
    CHECK(job_names(*d) == std::vector<std::string>{"change", "keep", "new"});
    CHECK(run_count(*d, "keep") == 1);  // its state survived
    CHECK(d->scheduler().find("change")->info()->schedule == "every 2h");
    CHECK(log.contains("reloaded schedule: added new; removed drop; replaced change; 1 unchanged"));
    d->stop(1s);
}

TEST_CASE("daemon: an invalid file on reload keeps the running schedule", "[config][daemon]") {
    Log log(LogFormat::text);
    auto d =
        make_daemon(R"({"version": 1, "jobs": [{"name": "a", "every": "1h", "command": {"argv": ["true"]}}]})", log);
    d->start();
    const TempDir dir("daemon-test");
    const auto path = dir.path() / "schedule.json";
    std::ofstream(path) << R"({"version": 1, "jobs": [{"name": "b", "every": "soon", "command": {"argv": ["true"]}}]})";
    auto report = d->reload(path);
    REQUIRE_FALSE(report);
    REQUIRE(report.error().size() == 1);
    CHECK(report.error()[0].pointer == "/jobs/0/every");
    CHECK(job_names(*d) == std::vector<std::string>{"a"});
    CHECK(log.contains("error reload of " + path.string() + " refused: 1 problem(s); the running schedule is kept"));
    CHECK(log.contains("error /jobs/0/every: expected a number at \"soon\""));

    std::ofstream(path) << R"({"version": 1, "jobs": [{"name": "b", "every": "1h", "command": {"argv": ["true"]}}]})";
    REQUIRE(d->reload(path));
    CHECK(job_names(*d) == std::vector<std::string>{"b"});
    d->stop(1s);
}

TEST_CASE("daemon: a changed saga replaces the jobs that start it", "[config][daemon]") {
    Log log(LogFormat::text);
    const auto doc = [](const char* step_command) {
        return std::string(R"({"version": 1,
          "jobs": [{"name": "s", "every": "1h", "saga": "x"}, {"name": "other", "every": "1h", "command": {"argv": ["true"]}}],
          "sagas": [{"name": "x", "steps": [{"name": "a", "command": {"argv": [")") +
               step_command + R"("]}, "no_compensation": true}]}]})";
    };
    auto d = make_daemon(doc("true"), log);
    d->start();
    auto next = parse_text(doc("false"), "/tmp");
    REQUIRE(next);
    auto report = d->apply(std::move(*next));
    REQUIRE(report);
    CHECK(report->sagas_changed == std::vector<std::string>{"x"});
    CHECK(report->replaced == std::vector<std::string>{"s"});
    CHECK(report->unchanged == std::vector<std::string>{"other"});
    d->stop(1s);
}

TEST_CASE("daemon: stop drains, then stops what is still running", "[config][daemon]") {
    Log log(LogFormat::text);
    auto d = make_daemon(
        R"({"version": 1, "jobs": [{"name": "long", "every": "1h", "command": {"argv": ["sleep", "100"]}}]})", log);
    d->start();
    REQUIRE(d->scheduler().find("long")->trigger_now());
    REQUIRE(eventually([&] { return d->scheduler().find("long")->info()->running; }));
    const auto t0 = std::chrono::steady_clock::now();
    const auto report = d->stop(200ms);
    CHECK(std::chrono::steady_clock::now() - t0 < 3s);
    CHECK_FALSE(report.drained);
}

TEST_CASE("daemon: a running breaker cannot be redefined by a reload", "[config][daemon]") {
    Log log(LogFormat::text);
    const auto doc = [](int window, const char* program) {
        return fmt::format(R"({{"version": 1, "jobs": [{{"name": "a", "every": "1h",
            "policies": {{"breaker": {{"name": "db", "window": {}}}}}, "command": {{"argv": ["{}"]}}}}]}})",
                           window, program);
    };
    auto d = make_daemon(doc(10, "true"), log);
    d->start();
    auto other = parse_text(doc(20, "true"), "/tmp");
    REQUIRE(other);
    auto refused = d->apply(std::move(*other));
    REQUIRE_FALSE(refused);
    REQUIRE(refused.error().size() == 1);
    CHECK(refused.error()[0] ==
          txflow::schedule_file::Problem{"/jobs/0/policies/breaker",
                                         "breaker 'db' is running with other options; they change at "
                                         "a restart"});
    CHECK(job_names(*d) == std::vector<std::string>{"a"});

    auto same = parse_text(doc(10, "false"), "/tmp");
    REQUIRE(same);
    auto report = d->apply(std::move(*same));
    REQUIRE(report);
    CHECK(report->replaced == std::vector<std::string>{"a"});
    d->stop(1s);
}

TEST_CASE("daemon: saga data stays within its limit, with a clear error", "[config][daemon]") {
    Log log(LogFormat::text);
    auto d = make_daemon(R"({"version": 1,
      "jobs": [{"name": "long-line", "every": "1h", "saga": "one-line"},
               {"name": "big-merge", "every": "1h", "saga": "two-lines"}],
      "sagas": [
        {"name": "one-line", "steps": [{"name": "emit", "no_compensation": true,
          "command": {"argv": ["sh", "-c", "printf 'TXFLOW_DATA {\"x\": \"%070000d\"}\\n' 0"]}}]},
        {"name": "two-lines", "steps": [{"name": "emit", "no_compensation": true,
          "command": {"argv": ["sh", "-c",
            "printf 'TXFLOW_DATA {\"a\": \"%040000d\"}\\nTXFLOW_DATA {\"b\": \"%040000d\"}\\n' 0 0"]}}]}]})",
                         log);
    d->start();
    REQUIRE(d->scheduler().find("long-line")->trigger_now());
    REQUIRE(d->scheduler().find("big-merge")->trigger_now());
    REQUIRE(eventually([&] { return log.contains("a TXFLOW_DATA line is limited to 65535 bytes"); }));
    REQUIRE(eventually([&] {
        return log.contains(
            "the saga's data would be 80015 bytes as JSON with this step's TXFLOW_DATA, over the "
            "64 KiB limit");
    }));
    d->stop(1s);
}

TEST_CASE("daemon: a reload reads secret files again, and their values are never logged", "[config][daemon]") {
    TempDir dir{"secret-reload"};
    const auto secret = dir.path() / "pw";
    const auto write_secret = [&](const std::string& value) {
        { std::ofstream(secret) << value; }
        std::filesystem::permissions(secret, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    };
    write_secret("first-secret-value");
    const auto path = dir.path() / "schedule.json";
    {
        std::ofstream(path)
            << R"({"version": 1, "jobs": [{"name": "use", "every": "1h", "command": {"argv": ["sh", "-c",
        "echo \"length ${#PW}\""], "env": {"PW": {"file": "pw"}}}}]})";
    }
    auto file = txflow::schedule_file::load_file(path);
    REQUIRE(file);
    Log log(LogFormat::text);
    DaemonOptions options;
    options.logger = log.logger;
    options.store = std::make_shared<txflow::store::MemoryStore>();
    auto created = Daemon::create(std::move(*file), options);
    REQUIRE(created);
    auto& d = **created;
    d.start();
    REQUIRE(d.scheduler().find("use")->trigger_now());
    REQUIRE(eventually([&] { return log.contains("[use] stdout: length 18"); }));

    write_secret("2nd-secret");
    auto report = d.reload(path);
    REQUIRE(report);
    CHECK(report->unchanged == std::vector<std::string>{"use"});  // the same job: its state is kept
    REQUIRE(d.scheduler().find("use")->trigger_now());
    REQUIRE(eventually([&] { return log.contains("[use] stdout: length 10"); }));

    // A secret others may read: the reload is refused, the running schedule kept.
    std::filesystem::permissions(secret, std::filesystem::perms::others_read, std::filesystem::perm_options::add);
    auto refused = d.reload(path);
    REQUIRE_FALSE(refused);
    CHECK(refused.error()[0].pointer == "/jobs/0/command/env/PW");
    CHECK(log.contains("reload refused"));
    CHECK_FALSE(log.contains("first-secret-value"));
    CHECK_FALSE(log.contains("2nd-secret"));
    d.stop(1s);
}

}  // namespace daemon_test
