// "traceparent" / "tracestate" on a job in a schedule file: checked as W3C says, refused with the
// key's pointer and the reason, kept in the spec and its canonical form.
#include <catch2/catch.hpp>

#include <string>

#include "txflow/schedule_file/schedule.hpp"

namespace traceparent_test {

using txflow::schedule_file::parse_text;

namespace {

constexpr const char* kParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

std::string one_job(const std::string& extra) {
    std::string text = R"({"version": 1, "jobs": [{"name": "a", "every": "1m", "command": {"argv": ["true"]})";
    text += extra;
    text += "}]}";
    return text;
}

}  // namespace

TEST_CASE("schedule file: a job's \"traceparent\" and \"tracestate\" are loaded", "[config][trace]") {
    std::string extra = R"(, "traceparent": ")";
    extra += kParent;
    extra += R"(", "tracestate": "congo=t61")";
    auto f = parse_text(one_job(extra), "/srv/app");
    REQUIRE(f);
    CHECK(f->jobs.at(0).traceparent == kParent);
    CHECK(f->jobs.at(0).tracestate == "congo=t61");
    CHECK(f->canonical(f->jobs.at(0)).at("traceparent") == kParent);
    auto none = parse_text(one_job(""), "/srv/app");
    REQUIRE(none);
    CHECK(none->jobs.at(0).traceparent.empty());
    CHECK_FALSE(none->canonical(none->jobs.at(0)).contains("traceparent"));
}

TEST_CASE("schedule file: an invalid \"traceparent\" is refused where it stands, saying why", "[config][trace]") {
    SECTION("uppercase hex") {
        auto r = parse_text(one_job(R"(, "traceparent": "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01")"),
                            "/srv/app");
        REQUIRE_FALSE(r);
        REQUIRE(r.error().size() == 1);
        CHECK(r.error()[0].pointer == "/jobs/0/traceparent");
        CHECK_THAT(r.error()[0].reason, Catch::Contains("traceparent"));
    }
    SECTION("all-zero trace id") {
        auto r = parse_text(one_job(R"(, "traceparent": "00-00000000000000000000000000000000-00f067aa0ba902b7-01")"),
                            "/srv/app");
        REQUIRE_FALSE(r);
        CHECK(r.error()[0].pointer == "/jobs/0/traceparent");
        CHECK_THAT(r.error()[0].reason, Catch::Contains("zero"));
    }
    SECTION("not a string") {
        auto r = parse_text(one_job(R"(, "traceparent": 7)"), "/srv/app");
        REQUIRE_FALSE(r);
        CHECK(r.error()[0].pointer == "/jobs/0/traceparent");
    }
    SECTION("a tracestate alone") {
        auto r = parse_text(one_job(R"(, "tracestate": "congo=t61")"), "/srv/app");
        REQUIRE_FALSE(r);
        CHECK(r.error()[0].pointer == "/jobs/0/tracestate");
        CHECK_THAT(r.error()[0].reason, Catch::Contains("traceparent"));
    }
}

}  // namespace traceparent_test
