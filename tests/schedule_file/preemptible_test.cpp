// "preemptible" in a schedule file: a boolean, loaded into the job spec,
// refused with its pointer and reason when it is anything else.
#include <catch2/catch.hpp>

#include <string>

#include "txflow/schedule_file/schedule.hpp"

namespace preemptible_test {

using txflow::schedule_file::parse_text;

namespace {

std::string one_job(const std::string& extra) {
    return R"({"version": 1, "jobs": [{"name": "a", "every": "1m", "command": {"argv": ["true"]})" + extra + "}]}";
}

}  // namespace

TEST_CASE("schedule file: \"preemptible\": true opts a job in; absent means false", "[config][preempt]") {
    auto on = parse_text(one_job(R"(, "preemptible": true)"), "/srv/app");
    REQUIRE(on);
    CHECK(on->jobs.at(0).preemptible);
    CHECK(on->canonical(on->jobs.at(0)).at("preemptible") == true);
    auto off = parse_text(one_job(""), "/srv/app");
    REQUIRE(off);
    CHECK_FALSE(off->jobs.at(0).preemptible);
    CHECK_FALSE(off->canonical(off->jobs.at(0)).contains("preemptible"));
}

TEST_CASE("schedule file: a \"preemptible\" that is not a boolean is refused where it stands", "[config][preempt]") {
    auto r = parse_text(one_job(R"(, "preemptible": "yes")"), "/srv/app");
    REQUIRE_FALSE(r);
    REQUIRE(r.error().size() == 1);
    CHECK(r.error()[0].pointer == "/jobs/0/preemptible");
    CHECK(r.error()[0].reason == "expected true or false, got string \"yes\"");
}

}  // namespace preemptible_test
