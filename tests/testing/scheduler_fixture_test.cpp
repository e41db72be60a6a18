// The test kit's SchedulerFixture: time skipping runs every due fire in order,
// wall times in a zone (DST gap included), outcomes, restart on a memory store
// and on a WAL, and saga runs that need the clock to move (compensation retries).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "txflow/testing.hpp"
#include "txflow/testing/catch2.hpp"

namespace scheduler_fixture_test {

using namespace std::chrono_literals;
using txflow::EventKind;
using txflow::JobContext;
using txflow::Outcome;
using txflow::Saga;
using txflow::Scheduler;
using txflow::testing::Compensated;
using txflow::testing::CompensationFailed;
using txflow::testing::FiresAt;
using txflow::testing::FixtureOptions;
using txflow::testing::Ran;
using txflow::testing::SagaScript;
using txflow::testing::SchedulerFixture;
using txflow::testing::StoreKind;
using txflow::testing::Succeeded;
using txflow::testing::utc_text;
using txflow::testing::wall_time;

TEST_CASE("wall_time reads RFC 3339 instants and local times in a zone", "[testing][time]") {
    CHECK(utc_text(wall_time("2026-01-01T00:00:00Z")) == "2026-01-01T00:00:00Z");
    CHECK(utc_text(wall_time("2026-01-01T01:00:00+01:00", "America/New_York")) == "2026-01-01T00:00:00Z");
    CHECK(utc_text(wall_time("2026-07-01T09:00:00", "Europe/Berlin")) == "2026-07-01T07:00:00Z");
    // 02:30 on 2026-03-29 does not exist in Berlin: read with CET, it is 03:30 CEST.
    CHECK(utc_text(wall_time("2026-03-29T02:30:00", "Europe/Berlin")) == "2026-03-29T01:30:00Z");
    // 02:30 on 2026-10-25 happens twice: the first (CEST).
    CHECK(utc_text(wall_time("2026-10-25T02:30:00", "Europe/Berlin")) == "2026-10-25T00:30:00Z");
    CHECK_THROWS_AS(wall_time("yesterday"), std::invalid_argument);
    CHECK_THROWS_AS(wall_time("2026-01-01T00:00:00", "Mars/Olympus"), std::invalid_argument);
}

TEST_CASE_METHOD(SchedulerFixture, "advance runs every fire due on the way, in order", "[testing][fixture]") {
    setup([](Scheduler& s) { s.job("tick").every(10min).run([](JobContext&) {}); });
    advance(35min);
    CHECK_THAT(fires_of("tick"), FiresAt({"2026-01-01T00:10:00Z", "2026-01-01T00:20:00Z", "2026-01-01T00:30:00Z"}));
    CHECK(fired("tick") == 3);
    CHECK(last_outcome("tick") == Outcome::succeeded);
    CHECK(utc_text(now()) == "2026-01-01T00:35:00Z");
    CHECK(fired("nothing") == 0);
    CHECK(last_outcome("nothing") == Outcome::none);
}

TEST_CASE_METHOD(SchedulerFixture, "a month of hourly cron fires, each run seeing its own time", "[testing][fixture]") {
    std::vector<txflow::WallTime> seen;  // written by one run at a time: advance waits for each
    setup([&](Scheduler& s) {
        s.job("hourly").cron("0 0 * * * *").run([&](JobContext& ctx) { seen.push_back(ctx.scheduled_time()); });
    });
    advance_to("2026-02-01T00:00:00Z");
    REQUIRE(fired("hourly") == 31 * 24);
    CHECK(seen == fires_of("hourly"));
    CHECK(utc_text(fires_of("hourly").front()) == "2026-01-01T01:00:00Z");
    CHECK(utc_text(fires_of("hourly").back()) == "2026-02-01T00:00:00Z");
}

struct Berlin : SchedulerFixture {
    Berlin() : SchedulerFixture(FixtureOptions{.start = "2026-03-28T12:00:00", .zone = "Europe/Berlin"}) {
        setup(
            [](Scheduler& s) { s.job("night").cron("0 30 2 * * *").in_zone("Europe/Berlin").run([](JobContext&) {}); });
    }
};

TEST_CASE_METHOD(Berlin, "advance_to a local time across the spring-forward gap", "[testing][fixture][dst]") {
    advance_to("2026-03-30T12:00:00", "Europe/Berlin");
    // 02:30 on the 29th does not exist: the fire runs at 03:00 CEST, the end of the gap.
    CHECK_THAT(fires_of("night"), FiresAt({"2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"}));
}

TEST_CASE_METHOD(SchedulerFixture, "last_outcome and events tell a failure apart", "[testing][fixture]") {
    setup(
        [](Scheduler& s) { s.job("flaky").every(1h).run([](JobContext&) { throw std::runtime_error("disk full"); }); });
    advance(1h);
    CHECK(last_outcome("flaky") == Outcome::failed);
    const auto finished = events(EventKind::finished, "flaky");
    REQUIRE(finished.size() == 1);
    CHECK(finished[0].error == "disk full");
    CHECK(txflow::testing::describe(finished[0]) ==
          "finished flaky 2026-01-01T01:00:00Z attempt 1: failed (disk full)");
}

TEST_CASE_METHOD(SchedulerFixture, "retries are due instants too: advance waits them out", "[testing][fixture]") {
    std::atomic<int> attempts{0};
    setup([&](Scheduler& s) {
        s.job("flaky").after(1s).retry(txflow::retry::fixed(10min).attempts(3)).run([&](JobContext&) {
            if (++attempts < 3) throw std::runtime_error("not yet");
        });
    });
    advance(1h);
    CHECK(attempts == 3);
    CHECK(fired("flaky") == 1);  // one run, three attempts
    CHECK(last_outcome("flaky") == Outcome::succeeded);
}

TEST_CASE("restart keeps the store: misfires across a crash", "[testing][fixture][restart]") {
    const auto store_kind = GENERATE(StoreKind::memory, StoreKind::wal);
    SchedulerFixture f(FixtureOptions{.store = store_kind});
    f.setup([](Scheduler& s) {
        s.job("tick").cron("0 */10 * * * *").misfire(txflow::Misfire::fire_once()).run([](JobContext&) {});
    });
    f.advance(30min);
    REQUIRE(f.fired("tick") == 3);
    f.restart(45min);  // down from 0:30 to 1:15: missed 0:40 .. 1:10, fired once (the latest)
    CHECK(f.fired("tick") == 4);
    CHECK(utc_text(f.fires_of("tick").back()) == "2026-01-01T01:10:00Z");
    f.advance(5min);
    CHECK(utc_text(f.fires_of("tick").back()) == "2026-01-01T01:20:00Z");
}

TEST_CASE_METHOD(SchedulerFixture, "restart with new registrations: a new version deployed",
                 "[testing][fixture][restart]") {
    setup([](Scheduler& s) { s.job("tick").every(1min).run([](JobContext&) {}); });
    advance(2min);
    restart(0ms, [](Scheduler& s) { s.job("tock").every(1min).run([](JobContext&) {}); });
    advance(2min);
    CHECK(fired("tick") == 2);
    CHECK(fired("tock") == 2);
    CHECK(scheduler().find("tick") == std::nullopt);
}

TEST_CASE_METHOD(SchedulerFixture, "SagaScript: a failing step is compensated in reverse order", "[testing][saga]") {
    SagaScript script;
    script.fail_step("ship");
    auto order = Saga("order")
                     .step("reserve", script.action("reserve"), script.compensation("reserve"))
                     .step("charge", script.action("charge"), script.compensation("charge"))
                     .step("ship", script.action("ship"), script.compensation("ship"))
                     .build();
    CHECK_THAT(run_saga(order), Compensated());
    CHECK_THAT(script, Ran({"reserve", "charge", "ship!", "~charge", "~reserve"}));
    CHECK(script.completed() == std::vector<std::string>{"reserve", "charge"});
    CHECK_THAT(script, Compensated({"charge", "reserve"}));
}

TEST_CASE_METHOD(SchedulerFixture, "SagaScript: a compensation failing twice is retried on the clock",
                 "[testing][saga]") {
    SagaScript script;
    script.fail_step("charge").fail_compensation("reserve", 2);
    auto order = Saga("order")
                     .step("reserve", script.action("reserve"), script.compensation("reserve"))
                     .step("charge", script.action("charge"), script.compensation("charge"))
                     .build();
    const auto info = run_saga(order);
    CHECK_THAT(info, Compensated());
    CHECK_THAT(script, Ran({"reserve", "charge!", "~reserve!", "~reserve!", "~reserve"}));
}

TEST_CASE_METHOD(SchedulerFixture, "SagaScript: a compensation that always fails parks the saga", "[testing][saga]") {
    SagaScript script;
    script.fail_step("charge").fail_compensation("reserve");
    auto order = Saga("order")
                     .step("reserve", script.action("reserve"), script.compensation("reserve"))
                     .step("charge", script.action("charge"), script.compensation("charge"))
                     .build();
    CHECK_THAT(run_saga(order), CompensationFailed());
    CHECK(script.compensated().empty());
}

TEST_CASE_METHOD(SchedulerFixture, "a saga that succeeds", "[testing][saga]") {
    SagaScript script;
    auto order = Saga("order").step("reserve", script.action("reserve"), script.compensation("reserve")).build();
    CHECK_THAT(run_saga(order, {{"amount", 3}}, "order-1"), Succeeded());
    CHECK_THAT(script, Ran({"reserve"}));
}

}  // namespace scheduler_fixture_test
