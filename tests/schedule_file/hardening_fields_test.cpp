// The schedule file's hardening fields (inherit_env, env_allow, user, group,
// secrets from files, output) and its limits: each refusal with its pointer
// and reason, and what a valid file loads into.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "txflow/schedule_file/schedule.hpp"

namespace hardening_fields_test {

using txflow::schedule_file::kMaxFileBytes;
using txflow::schedule_file::kMaxJobs;
using txflow::schedule_file::kMaxSteps;
using txflow::schedule_file::parse_text;
using txflow::schedule_file::Problems;

namespace {

Problems problems_of(const std::string& text) {
    auto r = parse_text(text, "/srv/app");
    if (r) return {};
    return r.error();
}

std::string one_job(const std::string& command, const std::string& top = "") {
    return R"({"version": 1, )" + top + R"("jobs": [{"name": "a", "every": "1m", "command": )" + command + "}]}";
}

void refused(const std::string& text, const std::string& pointer, const std::string& reason) {
    INFO(text);
    const Problems p = problems_of(text);
    REQUIRE(p.size() == 1);
    CHECK(p[0].pointer == pointer);
    CHECK(p[0].reason == reason);
}

}  // namespace

TEST_CASE("hardening fields: a valid command loads them, defaults from the top level", "[config][validate]") {
    auto file = parse_text(one_job(R"({"argv": ["true"], "env": {"A": "1", "PGPASSWORD": {"file": "secrets/pg"}},
        "inherit_env": false, "env_allow": ["PATH", "LANG"], "user": "nobody", "group": "nogroup"})"),
                           "/srv/app");
    REQUIRE(file);
    const auto& c = *file->jobs[0].command;
    CHECK(c.env == std::map<std::string, std::string>{{"A", "1"}});
    CHECK(c.env_files == std::map<std::string, std::string>{{"PGPASSWORD", "/srv/app/secrets/pg"}});
    CHECK_FALSE(c.inherit_env);
    CHECK(c.env_allow == std::vector<std::string>{"PATH", "LANG"});
    CHECK(c.user == "nobody");
    CHECK(c.group == "nogroup");
    // The secret's path is in the canonical form, never a value.
    CHECK(file->canonical(file->jobs[0]).dump().find("/srv/app/secrets/pg") != std::string::npos);

    auto defaults = parse_text(one_job(R"({"argv": ["true"]})", R"("user": "backup", "group": "1234",
        "inherit_env": false, "env_allow": ["PATH"], "output": {"head_bytes": 100, "tail_bytes": 0,
        "lines_per_second": 5, "burst": 7}, )"));
    REQUIRE(defaults);
    const auto& d = *defaults->jobs[0].command;
    CHECK(d.user == "backup");
    CHECK(d.group == "1234");
    CHECK_FALSE(d.inherit_env);
    CHECK(d.env_allow == std::vector<std::string>{"PATH"});
    CHECK(defaults->user == "backup");
    CHECK(defaults->output.head == 100);
    CHECK(defaults->output.tail == 0);
    CHECK(defaults->output.lines_per_second == 5);
    CHECK(defaults->output.burst == 7);

    // A command overrides the default (and a default allow-list means nothing once it inherits all).
    auto own = parse_text(one_job(R"({"argv": ["true"], "user": "root", "inherit_env": true})",
                                  R"("user": "backup", "inherit_env": false, "env_allow": ["PATH"], )"));
    REQUIRE(own);
    CHECK(own->jobs[0].command->user == "root");
    CHECK(own->jobs[0].command->inherit_env);
    CHECK(own->jobs[0].command->env_allow.empty());

    auto plain = parse_text(one_job(R"({"argv": ["true"]})"));
    REQUIRE(plain);
    CHECK(plain->jobs[0].command->inherit_env);
    CHECK(plain->jobs[0].command->user.empty());
    CHECK(plain->output == txflow::schedule_file::OutputSpec{});
}

TEST_CASE("hardening fields: bad values are refused with their position", "[config][validate]") {
    refused(one_job(R"({"argv": ["true"], "inherit_env": "no"})"), "/jobs/0/command/inherit_env",
            "expected true or false, got string \"no\"");
    refused(one_job(R"({"argv": ["true"], "env_allow": ["PATH"]})"), "/jobs/0/command/env_allow",
            "env_allow applies only with \"inherit_env\": false (the whole environment is inherited otherwise)");
    refused(one_job(R"({"argv": ["true"], "inherit_env": false, "env_allow": "PATH"})"), "/jobs/0/command/env_allow",
            "expected an array of variable names, e.g. [\"PATH\", \"LANG\"], got string \"PATH\"");
    refused(one_job(R"({"argv": ["true"], "inherit_env": false, "env_allow": ["PATH", "A=B"]})"),
            "/jobs/0/command/env_allow/1", "a variable name must be non-empty, without '=' or NUL");
    refused(one_job(R"({"argv": ["true"], "user": "bad user"})"), "/jobs/0/command/user",
            "'bad user' is not a valid user name or number");
    refused(one_job(R"({"argv": ["true"], "group": ""})"), "/jobs/0/command/group", "must not be empty");
    refused(one_job(R"({"argv": ["true"], "user": 0})"), "/jobs/0/command/user", "expected a string, got number 0");
    refused(one_job(R"({"argv": ["true"], "env": {"PW": {}}})"), "/jobs/0/command/env/PW",
            "missing required key 'file'");
    refused(one_job(R"({"argv": ["true"], "env": {"PW": {"file": 3}}})"), "/jobs/0/command/env/PW/file",
            "expected a string, got number 3");
    refused(one_job(R"({"argv": ["true"]})", R"("user": "-x", )"), "/user", "'-x' is not a valid user name or number");
    refused(one_job(R"({"argv": ["true"]})", R"("output": {"head_bytes": -1}, )"), "/output/head_bytes",
            "-1 is out of range 0-16777216");
    refused(one_job(R"({"argv": ["true"]})", R"("output": {"lines_per_second": 0}, )"), "/output/lines_per_second",
            "0 is out of range 1-1000000");
    refused(one_job(R"({"argv": ["true"]})", R"("output": {"head_byte": 1}, )"), "/output/head_byte",
            "unknown key 'head_byte' (did you mean 'head_bytes'?)");
}

TEST_CASE("limits: file size, number of jobs and steps, saga input", "[config][validate]") {
    std::string big = one_job(R"({"argv": ["true"]})");
    big.append(kMaxFileBytes, ' ');
    refused(big, "", "a schedule file is at most 4 MiB; this one has " + std::to_string(big.size()) + " bytes");

    std::string jobs = R"({"version": 1, "jobs": [)";
    for (std::size_t i = 0; i <= kMaxJobs; ++i) jobs += std::string(i == 0 ? "" : ",") + "{}";
    jobs += "]}";
    refused(jobs, "/jobs", "10001 jobs is over the limit of 10000");

    std::string steps = R"({"version": 1, "sagas": [{"name": "s", "steps": [)";
    for (std::size_t i = 0; i <= kMaxSteps; ++i) steps += std::string(i == 0 ? "" : ",") + "{}";
    steps += "]}]}";
    refused(steps, "/sagas/0/steps", "101 steps is over the limit of 100 per saga");

    const std::string input = R"({"version": 1, "sagas": [{"name": "s", "steps": [{"name": "a",
        "command": {"argv": ["true"]}, "no_compensation": true}]}], "jobs": [{"name": "j", "every": "1m",
        "saga": "s", "input": {"blob": ")" +
                              std::string(70'000, 'x') + R"("}}]})";
    refused(input, "/jobs/0/input", "70011 bytes as compact JSON is over the 64 KiB a saga's data may have");
}

}  // namespace hardening_fields_test
