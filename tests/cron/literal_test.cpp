// "..."_cron literals: parsed by the compiler with the run-time parser's code.
// The rejected forms live in tests/compile_fail/.
#include <catch2/catch.hpp>

#include "txflow/cron/literal.hpp"
#include "txflow/cron/schedule.hpp"
#include "txflow/scheduler.hpp"

#include <atomic>

namespace literal_test {

using namespace txflow::literals;

namespace {
constexpr auto kEveryFive = "0 */5 * * * *"_cron;
constexpr auto kBerlin = "CRON_TZ=Europe/Berlin 30 2 * * MON-FRI"_cron;
constexpr auto kQuartz = "0 15 10 ? * 6#3 2030-2035"_cron;
constexpr auto kEvery = "@every 1h30m"_cron;
static_assert(kBerlin.zone_name() == "Europe/Berlin");
static_assert(kEvery.every_ms == 5'400'000);
}  // namespace

TEST_CASE("cron literals equal the run-time parse", "[cron][literal]") {
    CHECK(kEveryFive == txflow::cron::parse("0 */5 * * * *")->spec());
    CHECK(kBerlin == txflow::cron::parse("CRON_TZ=Europe/Berlin 30 2 * * MON-FRI")->spec());
    CHECK(kQuartz == txflow::cron::parse("0 15 10 ? * 6#3 2030-2035")->spec());
    CHECK(kEvery == txflow::cron::parse("@every 1h30m")->spec());
}

TEST_CASE("a literal's zone is resolved when it becomes a Schedule", "[cron][literal]") {
    const txflow::cron::Schedule berlin(kBerlin);
    CHECK(berlin.zone().name() == "Europe/Berlin");
    const auto fire = berlin.next(*txflow::cron::parse_rfc3339("2026-03-27T12:00:00Z"));
    REQUIRE(fire);
    CHECK(txflow::cron::to_rfc3339(*fire, berlin.zone()) == "2026-03-30T02:30:00+02:00");
}

TEST_CASE("the fluent API takes a cron literal", "[cron][literal][scheduler]") {
    txflow::ManualClock clock{*txflow::cron::parse_rfc3339("2026-01-01T00:00:00Z")};
    txflow::Scheduler sched{txflow::SchedulerOptions{}.workers(1).clock(clock)};
    std::atomic<int> runs{0};
    sched.job("x").cron("0 */5 * * * *"_cron).run([&](txflow::JobContext&) { ++runs; });
    sched.start();
    for (int i = 0; i < 11; ++i) {
        clock.advance(std::chrono::minutes{1});
        sched.wait_idle();
    }
    CHECK(runs == 2);  // 00:05 and 00:10
    CHECK(sched.find("x")->info()->schedule == "0 */5 * * * *");
    // The zone's syntax is checked by the compiler, its existence here.
    CHECK_THROWS_WITH(sched.job("y").cron("CRON_TZ=Nowhere/Atlantis 0 0 * * *"_cron).run([](txflow::JobContext&) {}),
                      "job 'y': unknown time zone \"Nowhere/Atlantis\"");
}

}  // namespace literal_test
