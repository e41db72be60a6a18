// Which fires the cron leader runs (the pure part, no database): fires on
// time all run; late ones follow the misfire policy, as in the scheduler.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "cluster/cron_fire_plan.hpp"
#include "support/test_support.hpp"

namespace cron_fire_plan_test {

using namespace std::chrono_literals;
using txflow::Misfire;
using txflow::cluster::plan_fires;
using txflow::test::iso;
using txflow::test::wall;

namespace {

txflow::cron::Schedule minutely() {
    auto s = txflow::cron::parse("0 * * * * *");
    REQUIRE(s);
    return *s;
}

std::vector<std::string> text(const std::vector<txflow::cron::Instant>& fires) {
    std::vector<std::string> out;
    for (auto f : fires) out.push_back(iso(f));
    return out;
}

}  // namespace

TEST_CASE("cron fire plan: nothing due, one on time, several on time", "[cron_fire_plan]") {
    const auto s = minutely();
    auto none = plan_fires(s, Misfire::fire_once(), wall("2026-12-07T10:00:00Z"), wall("2026-12-07T10:00:59Z"), 1s);
    CHECK(none.run.empty());
    CHECK_FALSE(none.last);

    auto one = plan_fires(s, Misfire::skip(), wall("2026-12-07T10:00:00Z"), wall("2026-12-07T10:01:00.500Z"), 1s);
    CHECK(text(one.run) == std::vector<std::string>{"2026-12-07T10:01:00Z"});
    CHECK(one.misfired == 0);
    REQUIRE(one.last);
    CHECK(iso(*one.last) == "2026-12-07T10:01:00Z");

    auto grace = plan_fires(s, Misfire::skip(), wall("2026-12-07T10:00:00Z"), wall("2026-12-07T10:03:00Z"), 5min);
    CHECK(grace.run.size() == 3);
    CHECK(grace.misfired == 0);
}

TEST_CASE("cron fire plan: late fires follow the misfire policy", "[cron_fire_plan]") {
    const auto s = minutely();
    const auto after = wall("2026-12-07T10:00:00Z");
    const auto now = wall("2026-12-07T10:05:00.500Z");  // 10:01 ... 10:05 due; 10:05 on time
    auto once = plan_fires(s, Misfire::fire_once(), after, now, 1s);
    CHECK(text(once.run) == std::vector<std::string>{"2026-12-07T10:05:00Z"});
    CHECK(once.misfired == 4);
    auto skip = plan_fires(s, Misfire::skip(), after, now, 1s);
    CHECK(text(skip.run) == std::vector<std::string>{"2026-12-07T10:05:00Z"});
    CHECK(skip.misfired == 4);
    auto all2 = plan_fires(s, Misfire::fire_all(2), after, now, 1s);
    CHECK(text(all2.run) == std::vector<std::string>{"2026-12-07T10:01:00Z", "2026-12-07T10:02:00Z"});
    CHECK(all2.misfired == 3);
    for (const auto& p : {once, skip, all2}) {
        REQUIRE(p.last);
        CHECK(iso(*p.last) == "2026-12-07T10:05:00Z");
    }
}

TEST_CASE("cron fire plan: a month of downtime on a 1-second schedule is counted, not listed", "[cron_fire_plan]") {
    auto s = txflow::cron::parse("* * * * * *");
    REQUIRE(s);
    const auto after = wall("2026-11-01T00:00:00Z");
    const auto now = wall("2026-11-08T00:00:00Z");  // 604,800 fires
    auto once = plan_fires(*s, Misfire::fire_once(), after, now, 1s);
    CHECK(text(once.run) == std::vector<std::string>{"2026-11-08T00:00:00Z"});
    CHECK(once.misfired == 604'799);
    auto all = plan_fires(*s, Misfire::fire_all(3), after, now, 1s);
    CHECK(all.run.size() == 3);
    CHECK(all.misfired == 604'797);
}

}  // namespace cron_fire_plan_test
