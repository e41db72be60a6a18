// The command runner: exit codes, signals, stop requests (SIGTERM, then
// SIGKILL), environment and working directory, output capture, no zombies.
#include <catch2/catch.hpp>

#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/test_support.hpp"
#include "txflow/daemon/command.hpp"

namespace command_test {

using namespace std::chrono_literals;
using txflow::daemon::Command;
using txflow::daemon::CommandResult;
using txflow::daemon::run_command;
using txflow::daemon::RunOptions;
using txflow::daemon::Stream;
using txflow::test::TempDir;

namespace {

Command make_command(std::vector<std::string> argv, std::string cwd = {}) {
    Command c;
    c.argv = std::move(argv);
    c.cwd = std::move(cwd);
    return c;
}

Command sh(std::string script) {
    return make_command({"sh", "-c", std::move(script)});
}

struct Captured {
    std::vector<std::pair<Stream, std::string>> lines;
    std::vector<std::string> of(Stream s) const {
        std::vector<std::string> out;
        for (const auto& [stream, line] : lines)
            if (stream == s) out.push_back(line);
        return out;
    }
};

CommandResult run(const Command& c, Captured* captured = nullptr, RunOptions options = {}) {
    if (captured != nullptr) {
        options.on_line = [captured](Stream s, std::string_view line) {
            captured->lines.emplace_back(s, std::string(line));
        };
    }
    return run_command(c, options);
}

bool no_children_left() {
    int status = 0;
    return ::waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD;
}

}  // namespace

TEST_CASE("command: exit code 0 is success, anything else a failure", "[config][command]") {
    const auto ok = run(make_command({"true"}));
    CHECK(ok.ok());
    CHECK(ok.status == CommandResult::Status::exited);
    CHECK(ok.exit_code == 0);
    CHECK(ok.describe() == "exit code 0");

    const auto bad = run(sh("exit 3"));
    CHECK_FALSE(bad.ok());
    CHECK(bad.exit_code == 3);
    CHECK(bad.describe() == "exit code 3");
    CHECK(no_children_left());
}

TEST_CASE("command: killed by a signal", "[config][command]") {
    const auto r = run(sh("kill -TERM $$"));
    CHECK_FALSE(r.ok());
    CHECK(r.status == CommandResult::Status::signaled);
    CHECK(r.signal == SIGTERM);
    CHECK(r.describe() == "killed by signal 15 (SIGTERM)");
    CHECK(txflow::daemon::signal_name(SIGKILL) == "SIGKILL");
}

TEST_CASE("command: the caller's blocked signals are not inherited", "[config][command]") {
    // The daemon blocks SIGTERM for sigwait; its commands must still die of it.
    sigset_t term;
    sigset_t old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    REQUIRE(pthread_sigmask(SIG_BLOCK, &term, &old) == 0);
    const auto r = run(sh("kill -TERM $$; sleep 5"));
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    CHECK(r.status == CommandResult::Status::signaled);
    CHECK(r.signal == SIGTERM);
}

TEST_CASE("command: programs that cannot start say why", "[config][command]") {
    const auto missing = run(make_command({"txflow-no-such-program"}));
    CHECK(missing.status == CommandResult::Status::failed_to_start);
    CHECK(missing.describe() == "cannot run \"txflow-no-such-program\": not found in PATH");

    const auto bad_cwd = run(make_command({"true"}, "/nonexistent/dir"));
    CHECK(bad_cwd.describe() == "working directory \"/nonexistent/dir\": No such file or directory");

    TempDir dir{"command-test"};
    { std::ofstream(dir.path() / "script.sh") << "#!/bin/sh\necho hi\n"; }
    const auto not_executable = run(make_command({"./script.sh"}, dir.path().string()));
    CHECK(not_executable.describe() == "cannot run \"./script.sh\": Permission denied");
    std::filesystem::permissions(dir.path() / "script.sh", std::filesystem::perms::owner_exec,
                                 std::filesystem::perm_options::add);
    Captured out;
    const auto relative = run(make_command({"./script.sh"}, dir.path().string()), &out);
    CHECK(relative.ok());
    CHECK(out.of(Stream::out) == std::vector<std::string>{"hi"});

    const auto missing_path = run(make_command({"./nope.sh"}, dir.path().string()));
    CHECK(missing_path.describe() == "cannot run \"./nope.sh\": No such file or directory");
    CHECK(no_children_left());
}

TEST_CASE("command: environment and working directory", "[config][command]") {
    TempDir dir{"command-test"};
    Captured out;
    RunOptions options;
    options.extra_env = {{"TXFLOW_JOB", "backup"}, {"B", "from-extra"}};
    Command c = sh("echo \"$A|$B|$TXFLOW_JOB\"; pwd; test -n \"$PATH\" && echo inherited");
    c.env = {{"A", "1"}, {"B", "from-command"}};
    c.cwd = dir.path().string();
    const auto r = run(c, &out, options);
    REQUIRE(r.ok());
    CHECK(out.of(Stream::out) == std::vector<std::string>{"1|from-extra|backup",
                                                          std::filesystem::canonical(dir.path()).string(),
                                                          "inherited"});

    Captured bare;
    RunOptions empty;
    empty.inherit_env = false;
    Command env_only = make_command({"/usr/bin/env"});
    env_only.env = {{"ONLY", "me"}};
    REQUIRE(run(env_only, &bare, empty).ok());
    CHECK(bare.of(Stream::out) == std::vector<std::string>{"ONLY=me"});

    // The command's own PATH is where its program is looked up.
    Command nowhere = make_command({"true"});
    nowhere.env = {{"PATH", dir.path().string()}};
    CHECK(run(nowhere).describe() == "cannot run \"true\": not found in PATH");

    // An empty PATH entry (leading, middle or the whole PATH) is the working directory.
    { std::ofstream(dir.path() / "tool") << "#!/bin/sh\necho tool ran\n"; }
    std::filesystem::permissions(dir.path() / "tool", std::filesystem::perms::owner_all);
    for (const std::string path : {":/nonexistent", "/nonexistent::/also-not", ""}) {
        INFO("PATH=" << path);
        Captured tool_out;
        Command tool = make_command({"tool"}, dir.path().string());
        tool.env = {{"PATH", path}};
        REQUIRE(run(tool, &tool_out).ok());
        CHECK(tool_out.of(Stream::out) == std::vector<std::string>{"tool ran"});
    }
}

TEST_CASE("command: stdout and stderr are captured line by line", "[config][command]") {
    Captured out;
    const auto r = run(sh("printf 'one\\ntwo\\r\\n'; echo oops >&2; printf 'no newline'"), &out);
    REQUIRE(r.ok());
    CHECK(out.of(Stream::out) == std::vector<std::string>{"one", "two", "no newline"});
    CHECK(out.of(Stream::err) == std::vector<std::string>{"oops"});

    Captured chunks;
    RunOptions small;
    small.max_line = 4;
    REQUIRE(run(sh("echo abcdefghij"), &chunks, small).ok());
    CHECK(chunks.of(Stream::out) == std::vector<std::string>{"abcd", "efgh", "ij"});

    Captured big;
    REQUIRE(run(sh("i=0; while [ $i -lt 2000 ]; do echo line $i; i=$((i+1)); done"), &big).ok());
    REQUIRE(big.lines.size() == 2000);
    CHECK(big.lines.back().second == "line 1999");

    Captured in;
    const auto cat = run(make_command({"cat"}), &in);  // stdin is /dev/null: cat ends at once
    CHECK(cat.ok());
    CHECK(in.lines.empty());
}

TEST_CASE("command: a stop request ends a hanging command quickly", "[config][command]") {
    std::stop_source stop;
    RunOptions options;
    options.stop = stop.get_token();
    std::jthread stopper([&stop] {
        std::this_thread::sleep_for(200ms);
        stop.request_stop();
    });
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = run(make_command({"sleep", "100"}), nullptr, options);
    const auto took = std::chrono::steady_clock::now() - t0;
    CHECK(took < 3s);
    CHECK(r.stop_requested);
    CHECK_FALSE(r.killed);
    CHECK(r.status == CommandResult::Status::signaled);
    CHECK(r.signal == SIGTERM);
    CHECK(no_children_left());
}

TEST_CASE("command: SIGTERM reaches the whole process group", "[config][command]") {
    std::stop_source stop;
    RunOptions options;
    options.stop = stop.get_token();
    std::jthread stopper([&stop] {
        std::this_thread::sleep_for(200ms);
        stop.request_stop();
    });
    const auto t0 = std::chrono::steady_clock::now();
    // sh waits for its child: only a signal to the group ends both at once.
    const auto r = run(sh("sleep 100; echo never"), nullptr, options);
    CHECK(std::chrono::steady_clock::now() - t0 < 3s);
    CHECK(r.stop_requested);
    CHECK_FALSE(r.ok());
}

TEST_CASE("command: one that ignores SIGTERM gets SIGKILL after the grace period", "[config][command]") {
    std::stop_source stop;
    RunOptions options;
    options.stop = stop.get_token();
    options.kill_grace = 300ms;
    Captured out;
    std::jthread stopper([&stop] {
        std::this_thread::sleep_for(300ms);
        stop.request_stop();
    });
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = run(sh("trap '' TERM; echo ready; sleep 100"), &out, options);
    const auto took = std::chrono::steady_clock::now() - t0;
    CHECK(took >= 550ms);
    CHECK(took < 4s);
    CHECK(r.killed);
    CHECK(r.signal == SIGKILL);
    CHECK(r.describe() == "killed by signal 9 (SIGKILL)");
    CHECK(out.of(Stream::out) == std::vector<std::string>{"ready"});
    CHECK(no_children_left());
}

TEST_CASE("command: a stop requested before the start runs nothing", "[config][command]") {
    std::stop_source stop;
    stop.request_stop();
    RunOptions options;
    options.stop = stop.get_token();
    TempDir dir{"command-test"};
    const auto marker = dir.path() / "ran";
    const auto r = run(sh("touch '" + marker.string() + "'"), nullptr, options);
    CHECK(r.status == CommandResult::Status::failed_to_start);
    CHECK(r.stop_requested);
    CHECK(r.describe() == "stopped before it started");
    CHECK_FALSE(std::filesystem::exists(marker));
}

TEST_CASE("command: background processes holding the pipes do not hold the run", "[config][command]") {
    Captured out;
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = run(sh("sleep 3 & echo started"), &out);
    CHECK(std::chrono::steady_clock::now() - t0 < 2500ms);
    CHECK(r.ok());
    CHECK(out.of(Stream::out) == std::vector<std::string>{"started"});
}

TEST_CASE("command: an exception from the line callback still reaps the child", "[config][command]") {
    RunOptions options;
    options.on_line = [](Stream, std::string_view) { throw std::runtime_error("callback failed"); };
    CHECK_THROWS_WITH(run_command(sh("echo x; sleep 100"), options), "callback failed");
    CHECK(no_children_left());
}

TEST_CASE("command: many runs leave no zombies", "[config][command]") {
    for (int i = 0; i < 50; ++i) {
        const auto r = run(sh(i % 2 == 0 ? "exit 0" : "exit 1"));
        CHECK(r.exit_code == i % 2);
    }
    CHECK(no_children_left());
}

}  // namespace command_test
