// What a command runs as and sees: the environment allow-list, and the user
// and group it switches to (run as root only: CI and this machine are root).
#include <catch2/catch.hpp>

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "support/test_support.hpp"
#include "txflow/daemon/command.hpp"

namespace command_identity_test {

using txflow::daemon::Command;
using txflow::daemon::CommandResult;
using txflow::daemon::run_command;
using txflow::daemon::RunOptions;
using txflow::daemon::Stream;
using txflow::test::TempDir;

namespace {

Command sh(std::string script) {
    Command c;
    c.argv = {"/bin/sh", "-c", std::move(script)};
    c.cwd = "/";
    return c;
}

std::vector<std::string> stdout_of(const Command& c, CommandResult* result = nullptr, RunOptions options = {}) {
    std::vector<std::string> lines;
    options.on_line = [&lines](Stream s, std::string_view line) {
        if (s == Stream::out) lines.emplace_back(line);
    };
    const CommandResult r = run_command(c, options);
    if (result != nullptr) *result = r;
    return lines;
}

}  // namespace

TEST_CASE("environment: inherit_env false keeps only the allowed variables", "[daemon][command]") {
    ::setenv("TXFLOW_TEST_DAEMON_SECRET", "from-the-daemon", 1);
    ::setenv("TXFLOW_TEST_ALLOWED", "allowed", 1);
    Command c = sh("echo \"[$TXFLOW_TEST_DAEMON_SECRET][$TXFLOW_TEST_ALLOWED][$OWN]\"");
    c.env = {{"OWN", "own"}};
    CHECK(stdout_of(c) == std::vector<std::string>{"[from-the-daemon][allowed][own]"});  // the default: all of it

    c.inherit_env = false;
    c.env_allow = {"TXFLOW_TEST_ALLOWED"};
    CHECK(stdout_of(c) == std::vector<std::string>{"[][allowed][own]"});

    // Nothing allowed: only the command's own variables and the caller's.
    c.env_allow.clear();
    RunOptions extra;
    extra.extra_env = {{"TXFLOW_JOB", "j"}};
    c.argv = {"/usr/bin/env"};
    auto all = stdout_of(c, nullptr, extra);
    std::sort(all.begin(), all.end());
    CHECK(all == std::vector<std::string>{"OWN=own", "TXFLOW_JOB=j"});
    ::unsetenv("TXFLOW_TEST_DAEMON_SECRET");
    ::unsetenv("TXFLOW_TEST_ALLOWED");
}

TEST_CASE("user: a command runs as the configured user and group", "[daemon][command]") {
    if (::geteuid() != 0) {
        WARN("not root: the switch of user is not tested here");
        return;
    }
    const passwd* nobody = ::getpwnam("nobody");
    REQUIRE(nobody != nullptr);
    Command c = sh("id -u; id -g; echo \"$HOME $USER\"");
    c.user = "nobody";
    CommandResult r;
    const auto lines = stdout_of(c, &r);
    CHECK(r.ok());
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == std::to_string(nobody->pw_uid));
    CHECK(lines[1] == std::to_string(nobody->pw_gid));
    CHECK(lines[2] == std::string(nobody->pw_dir) + " nobody");

    // A group of its own, by number.
    c.group = "12345";
    const auto with_group = stdout_of(c, &r);
    CHECK(r.ok());
    REQUIRE(with_group.size() == 3);
    CHECK(with_group[1] == "12345");

    // A group alone keeps the user.
    Command g = sh("id -u; id -g");
    g.group = "12345";
    CHECK(stdout_of(g) == std::vector<std::string>{"0", "12345"});
}

TEST_CASE("user: failures to switch are failed_to_start with the reason", "[daemon][command]") {
    Command c = sh("true");
    c.user = "txflow-no-such-user";
    const CommandResult unknown = run_command(c, {});
    CHECK(unknown.status == CommandResult::Status::failed_to_start);
    CHECK(unknown.describe() == "cannot run \"/bin/sh\": no user 'txflow-no-such-user' on this system");

    c.user.clear();
    c.group = "txflow-no-such-group";
    const CommandResult no_group = run_command(c, {});
    CHECK(no_group.describe() == "cannot run \"/bin/sh\": no group 'txflow-no-such-group' on this system");

    if (::geteuid() != 0) return;
    // The user may not enter the working directory: reported from the child.
    TempDir private_dir{"identity"};  // 0700, root's
    Command cwd = sh("true");
    cwd.user = "nobody";
    cwd.cwd = private_dir.path().string();
    const CommandResult denied = run_command(cwd, {});
    CHECK(denied.status == CommandResult::Status::failed_to_start);
    CHECK(denied.describe() ==
          "cannot run \"/bin/sh\": working directory \"" + cwd.cwd + "\" as user nobody: Permission denied");
}

}  // namespace command_identity_test
