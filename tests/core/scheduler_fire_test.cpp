// When a cron fire counts as done, and what happens to fires that do not get
// a worker: a fire queued behind a long run and lost with the process is run
// again (or reported missed) on recovery; coalescing and overlap skips are
// reported, never silently dropped.
#include <catch2/catch.hpp>

#include <atomic>

#include "support/recorders.hpp"
#include "support/test_support.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/testing.hpp"

namespace scheduler_fire_test {

using namespace std::chrono_literals;
using txflow::EventKind;
using txflow::JobContext;
using txflow::Misfire;
using txflow::Outcome;
using txflow::Scheduler;
using txflow::SchedulerOptions;
using txflow::test::eventually;
using txflow::test::Gate;
using txflow::test::iso;
using txflow::test::wall;
using Runs = txflow::test::RunRecorder;
using Strings = std::vector<std::string>;

namespace {

// The kit's fixture (MemoryStore, seed 7) with one worker and a short stop grace.
struct Fixture : txflow::testing::SchedulerFixture {
    explicit Fixture(std::size_t workers = 1)
        : SchedulerFixture({.scheduler = SchedulerOptions{}.workers(workers).stop_grace(20ms)}) {}

    // Registers a job "hold" that takes a worker until `gate` opens, starts
    // the scheduler and waits until the job has the worker.
    void hold_a_worker(const Gate& gate) {
        auto holding = std::make_shared<std::atomic<bool>>(false);
        scheduler().job("hold").after(0ms).run([holding, opened = gate.opened](JobContext&) {
            *holding = true;
            opened.wait();
        });
        scheduler().start();
        REQUIRE(eventually([&] { return holding->load(); }));
    }
    // True once the timer has armed `job` for `fire` (so every earlier fire was handled).
    bool scheduled(std::string_view job, std::string_view fire) const {
        for (const auto& e : events(EventKind::scheduled, job))
            if (iso(e.fire_time) == fire) return true;
        return false;
    }
};

struct TwoWorkers : Fixture {
    TwoWorkers() : Fixture(2) {}
};

}  // namespace

TEST_CASE_METHOD(Fixture, "fires queued behind a long run and lost with the process run on recovery",
                 "[scheduler][recovery]") {
    Runs lost;
    {
        Gate gate;
        hold_a_worker(gate);
        scheduler().job("tick").cron("* * * * * *").misfire(Misfire::fire_all(1000)).run(lost.record());
        for (int s = 1; s <= 4; ++s) {  // fires at :01 .. :04, each queued behind "hold"
            clock().advance(1s);
            REQUIRE(eventually([&] { return scheduled("tick", iso(wall("2026-01-01T00:00:00Z") + (s + 1) * 1s)); }));
        }
        const auto report = scheduler().stop(0ms);  // the "crash": the queued fires never ran
        CHECK(report.dropped_queued == 4);
        CHECK(report.still_running == Strings{"hold"});
        gate.open();
        CHECK(lost.size() == 0);
    }
    Runs after;
    const auto tick_with = [&after](Misfire policy) {
        return [&after, policy](Scheduler& second) {
            second.job("tick").cron("* * * * * *").misfire(policy).run(after.record());
        };
    };
    // Back (500 ms later) within the misfire grace of :04.

    SECTION("fire_all runs every one of them") {
        restart(500ms, tick_with(Misfire::fire_all(1000)));
        CHECK(after.sorted_isos() ==
              Strings{"2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z", "2026-01-01T00:00:03Z", "2026-01-01T00:00:04Z"});
    }
    SECTION("fire_once runs the latest and reports the rest missed") {
        restart(500ms, tick_with(Misfire::fire_once()));
        CHECK(after.isos() == Strings{"2026-01-01T00:00:04Z"});
        CHECK(event_log().count(EventKind::misfired, "tick") == 3);
    }
}

TEST_CASE_METHOD(TwoWorkers, "a fire whose run ended is not run again after a restart", "[scheduler][recovery]") {
    Runs before;
    Runs after;
    setup([&](Scheduler& first) {
        first.job("tick").cron("* * * * * *").misfire(Misfire::fire_all(1000)).run(before.record());
    });
    advance(3s);
    CHECK(before.size() == 3);
    restart(0ms, [&](Scheduler& second) {
        second.job("tick").cron("* * * * * *").misfire(Misfire::fire_all(1000)).run(after.record());
    });
    CHECK(after.size() == 0);
    advance(1s);
    CHECK(after.isos() == Strings{"2026-01-01T00:00:04Z"});
}

TEST_CASE_METHOD(Fixture, "an at job interrupted before its run ended fires again after a restart",
                 "[scheduler][recovery]") {
    const auto when = wall("2026-01-01T00:00:05Z");
    {
        Gate gate;
        hold_a_worker(gate);
        scheduler().job("once").at(when).run([](JobContext&) {});
        clock().advance(5s);
        // Give the timer thread the fire: wait until the at job is no longer armed.
        REQUIRE(eventually([&] { return !scheduler().find("once")->info()->next_fire.has_value(); }));
        (void)scheduler().stop(0ms);
        gate.open();
    }
    Runs after;
    restart(0ms, [&](Scheduler& second) { second.job("once").at(when).run(after.record()); });
    CHECK(after.isos() == Strings{"2026-01-01T00:00:05Z"});
}

TEST_CASE_METHOD(Fixture, "coalesce keeps one run waiting and reports the other fires", "[scheduler][coalesce]") {
    Runs ticks;
    Gate gate;
    hold_a_worker(gate);
    auto tick = scheduler().job("tick").every(1s).coalesce().run(ticks.record());
    for (int s = 0; s < 5; ++s) {
        clock().advance(1s);
        REQUIRE(eventually([&] { return event_log().count(EventKind::scheduled, "tick") >= std::uint64_t(s + 2); }));
    }
    gate.open();
    settle();
    CHECK(ticks.size() == 1);  // one waited; four were coalesced
    std::uint64_t coalesced = 0;
    for (const auto& e : events(EventKind::skipped, "tick"))
        if (e.detail == "coalesced") coalesced += e.count;
    CHECK(coalesced == 4);
    CHECK(tick.info()->skip_count == 4);
}

TEST_CASE_METHOD(TwoWorkers, "an overlapping run is skipped before it starts", "[scheduler][overlap]") {
    std::atomic<int> entered{0};
    Gate gate;
    auto job =
        scheduler().job("slow").cron("* * * * * *").skip_if_running().run([&, opened = gate.opened](JobContext&) {
            ++entered;
            opened.wait();
        });
    scheduler().start();
    clock().advance(1s);
    REQUIRE(eventually([&] { return entered.load() == 1; }));
    clock().advance(1s);  // the second fire finds the first still running
    REQUIRE(eventually([&] {
        for (const auto& e : events(EventKind::finished))
            if (e.outcome == Outcome::skipped) return true;
        return false;
    }));
    gate.open();
    settle();
    CHECK(entered.load() == 1);
    const auto skipped_fire = wall("2026-01-01T00:00:02Z");
    for (const auto& e : events(EventKind::started)) CHECK(e.fire_time != skipped_fire);
    bool found = false;
    for (const auto& e : events(EventKind::finished)) {
        if (e.fire_time != skipped_fire) continue;
        found = true;
        CHECK(e.outcome == Outcome::skipped);
        CHECK(e.error == "previous run still running");
    }
    CHECK(found);
    const auto info = job.info();
    CHECK(info->skip_count == 1);
    CHECK(info->run_count == 2);
}

TEST_CASE_METHOD(Fixture, "JobInfo counts attempts apart from runs", "[scheduler][info]") {
    auto job =
        scheduler().job("flaky").cron("* * * * * *").retry(txflow::retry::fixed(0ms).attempts(3)).run([](JobContext&) {
            throw std::runtime_error("nope");
        });
    advance(1s);
    const auto info = job.info();
    CHECK(info->run_count == 1);
    CHECK(info->attempt_count == 3);
    CHECK(info->skip_count == 0);
}

}  // namespace scheduler_fire_test
