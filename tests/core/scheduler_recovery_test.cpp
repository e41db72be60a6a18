// What a scheduler picks up from its store after a restart: cron jobs' last
// fires (missed fires meet the misfire policy), retries that were waiting,
// dead letters. The test kit's restart() is the crash: it destroys the
// scheduler and builds the next on the same MemoryStore and manual clock.
#include <catch2/catch.hpp>

#include <set>
#include <vector>

#include "support/recorders.hpp"
#include "support/test_support.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/testing.hpp"

namespace scheduler_recovery_test {

using namespace std::chrono_literals;
using txflow::JobContext;
using txflow::Scheduler;
using txflow::test::wall;
using Runs = txflow::test::RunRecorder;

using Fixture = txflow::testing::SchedulerFixture;  // a MemoryStore, seed 7, 2 workers

TEST_CASE_METHOD(Fixture, "cron fires missed while down go through the misfire policy, from the last recorded fire",
                 "[scheduler][recovery]") {
    Runs before;
    Runs after;
    setup([&](Scheduler& first) {
        first.job("tick").cron("*/10 * * * * *").run([&](JobContext& ctx) { before.add(ctx); });
    });
    advance(30s);  // fires at :10, :20, :30
    CHECK(before.sorted_isos() ==
          std::vector<std::string>{"2026-01-01T00:00:10Z", "2026-01-01T00:00:20Z", "2026-01-01T00:00:30Z"});
    // Down from :30 to 1:15: missed :40 :50 1:00 1:10.
    const auto tick_with = [&](txflow::Misfire policy) {
        return [&after, policy](Scheduler& second) {
            second.job("tick").cron("*/10 * * * * *").misfire(policy).run([&](JobContext& ctx) { after.add(ctx); });
        };
    };

    SECTION("fire_all(cap) runs each missed fire, up to the cap") {
        restart(45s, tick_with(txflow::Misfire::fire_all(3)));
        CHECK(after.sorted_isos() ==
              std::vector<std::string>{"2026-01-01T00:00:40Z", "2026-01-01T00:00:50Z", "2026-01-01T00:01:00Z"});
        advance(5s);  // the next regular fire, 1:20
        CHECK(after.sorted_isos().back() == "2026-01-01T00:01:20Z");
    }
    SECTION("fire_once runs the latest missed fire once") {
        restart(45s, tick_with(txflow::Misfire::fire_once()));
        CHECK(after.sorted_isos() == std::vector<std::string>{"2026-01-01T00:01:10Z"});
    }
    SECTION("skip runs none of them") {
        restart(45s, tick_with(txflow::Misfire::skip()));
        CHECK(after.sorted_isos().empty());
        advance(5s);
        CHECK(after.sorted_isos() == std::vector<std::string>{"2026-01-01T00:01:20Z"});
    }
    SECTION("a job that is not registered again keeps its record for later") {
        restart(45s, [](Scheduler&) {});
        CHECK(scheduler().jobs().empty());
    }
}

TEST_CASE_METHOD(Fixture, "a retry waiting at shutdown is re-armed after the restart, as the same attempt",
                 "[scheduler][recovery]") {
    setup([](Scheduler& first) {
        first.job("flaky").after(1s).retry(txflow::retry::fixed(1min).attempts(3)).run([](JobContext&) {
            throw std::runtime_error("down");
        });
    });
    advance(1s);  // attempt 1 fails; attempt 2 is due at 1:01
    scheduler().stop(0ms);
    Runs after;
    restart(20s, [&](Scheduler& second) {
        second.job("flaky").after(1h).retry(txflow::retry::fixed(1min).attempts(3)).run([&](JobContext& ctx) {
            after.add(ctx);
        });
    });
    CHECK(after.sorted_isos().empty());  // not due yet: 40 s to go
    advance(40s);
    REQUIRE(after.sorted_isos() == std::vector<std::string>{"2026-01-01T00:00:01Z"});  // the original fire
    CHECK(after.attempts() == std::vector<std::uint32_t>{2});
}

TEST_CASE_METHOD(Fixture, "dead letters survive a restart, and removing one is remembered", "[scheduler][recovery]") {
    setup([](Scheduler& first) {
        first.job("doomed").after(1s).retry(txflow::retry::fixed(1s).attempts(1)).run([](JobContext&) {
            throw std::runtime_error("bad input");
        });
        first.job("doomed2").after(1s).retry(txflow::retry::fixed(1s).attempts(1)).run([](JobContext&) {
            throw std::runtime_error("worse input");
        });
    });
    advance(1s);
    REQUIRE(scheduler().dead_letters().size() == 2);

    restart(0ms, [](Scheduler& second) { second.job("doomed").after(1h).run([](JobContext&) {}); });
    auto letters = scheduler().dead_letters();
    REQUIRE(letters.size() == 2);
    std::set<std::string> errors{letters[0].error, letters[1].error};
    CHECK(errors == std::set<std::string>{"bad input", "worse input"});
    CHECK(letters[0].scheduled == wall("2026-01-01T00:00:01Z"));
    CHECK(letters[0].attempts == 1);
    const auto doomed = std::find_if(letters.begin(), letters.end(), [](auto& d) { return d.job == "doomed"; });
    const auto kept = std::find_if(letters.begin(), letters.end(), [](auto& d) { return d.job == "doomed2"; })->id;
    REQUIRE(scheduler().rerun_dead_letter(doomed->id));
    settle();

    restart(0ms, [](Scheduler&) {});
    letters = scheduler().dead_letters();
    REQUIRE(letters.size() == 1);
    CHECK(letters[0].id == kept);
    CHECK(scheduler().clear_dead_letters() == 1);
}

TEST_CASE_METHOD(Fixture, "an at job that fired before the restart does not fire again", "[scheduler][recovery]") {
    const auto when = wall("2026-01-01T00:00:05Z");
    Runs before;
    Runs after;
    setup([&](Scheduler& first) { first.job("once").at(when).run([&](JobContext& ctx) { before.add(ctx); }); });
    advance(5s);
    REQUIRE(before.sorted_isos() == std::vector<std::string>{"2026-01-01T00:00:05Z"});
    restart(10s, [&](Scheduler& second) { second.job("once").at(when).run([&](JobContext& ctx) { after.add(ctx); }); });
    advance(10s);
    CHECK(after.sorted_isos().empty());
}

}  // namespace scheduler_recovery_test
