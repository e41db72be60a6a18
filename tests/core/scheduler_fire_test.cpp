// When a cron fire counts as done, and what happens to fires that do not get
// a worker: a fire queued behind a long run and lost with the process is run
// again (or reported missed) on recovery; coalescing and overlap skips are
// reported, never silently dropped.
#include <catch2/catch.hpp>

#include <atomic>

#include "support/recorders.hpp"
#include "support/test_support.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/store/memory_store.hpp"

using namespace std::chrono_literals;
using txflow::EventKind;
using txflow::JobContext;
using txflow::ManualClock;
using txflow::Misfire;
using txflow::Outcome;
using txflow::Scheduler;
using txflow::SchedulerOptions;
using txflow::test_support::eventually;
using txflow::test_support::Gate;
using txflow::test_support::iso;
using txflow::test_support::quiet_logger;
using txflow::test_support::wall;
using Events = txflow::test_support::EventRecorder;
using Runs = txflow::test_support::RunRecorder;
using Strings = std::vector<std::string>;

namespace {

struct Fixture {
    ManualClock clock{wall("2026-01-01T00:00:00Z")};
    std::shared_ptr<txflow::store::MemoryStore> store = std::make_shared<txflow::store::MemoryStore>();
    std::shared_ptr<Events> events = std::make_shared<Events>();
    SchedulerOptions options(std::size_t workers) {
        return SchedulerOptions{}
            .workers(workers)
            .clock(clock)
            .logger(quiet_logger())
            .store(store)
            .listener(events)
            .stop_grace(20ms)
            .seed(7);
    }
    // Registers a job "hold" that takes a worker until `gate` opens, and waits until it has.
    static void hold_a_worker(Scheduler& sched, const Gate& gate) {
        auto holding = std::make_shared<std::atomic<bool>>(false);
        sched.job("hold").after(0ms).run([holding, opened = gate.opened](JobContext&) {
            *holding = true;
            opened.wait();
        });
        sched.start();
        REQUIRE(eventually([&] { return holding->load(); }));
    }
    // True once the timer has armed `job` for `fire` (so every earlier fire was handled).
    bool scheduled(std::string_view job, std::string_view fire) const {
        for (const auto& e : events->of(EventKind::scheduled))
            if (e.job == job && iso(e.fire_time) == fire) return true;
        return false;
    }
};

}  // namespace

TEST_CASE("fires queued behind a long run and lost with the process run on recovery", "[scheduler][recovery]") {
    Fixture f;
    {
        Runs lost;
        Scheduler first(f.options(1));
        Gate gate;
        Fixture::hold_a_worker(first, gate);
        first.job("tick").cron("* * * * * *").misfire(Misfire::fire_all(1000)).run(lost.record());
        for (int s = 1; s <= 4; ++s) {  // fires at :01 .. :04, each queued behind "hold"
            f.clock.advance(1s);
            REQUIRE(eventually([&] { return f.scheduled("tick", iso(wall("2026-01-01T00:00:00Z") + (s + 1) * 1s)); }));
        }
        const auto report = first.stop(0ms);  // the "crash": the queued fires never ran
        CHECK(report.dropped_queued == 4);
        CHECK(report.still_running == Strings{"hold"});
        gate.open();
        CHECK(lost.size() == 0);
    }
    f.clock.advance(500ms);  // back within the misfire grace of :04

    SECTION("fire_all runs every one of them") {
        Runs after;
        Scheduler second(f.options(1));
        second.job("tick").cron("* * * * * *").misfire(Misfire::fire_all(1000)).run(after.record());
        second.start();
        second.wait_idle();
        CHECK(after.sorted_isos() ==
              Strings{"2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z", "2026-01-01T00:00:03Z", "2026-01-01T00:00:04Z"});
    }
    SECTION("fire_once runs the latest and reports the rest missed") {
        Runs after;
        Scheduler second(f.options(1));
        second.job("tick").cron("* * * * * *").misfire(Misfire::fire_once()).run(after.record());
        second.start();
        second.wait_idle();
        CHECK(after.isos() == Strings{"2026-01-01T00:00:04Z"});
        CHECK(f.events->count(EventKind::misfired, "tick") == 3);
    }
}

TEST_CASE("a fire whose run ended is not run again after a restart", "[scheduler][recovery]") {
    Fixture f;
    {
        Runs before;
        Scheduler first(f.options(2));
        first.job("tick").cron("* * * * * *").misfire(Misfire::fire_all(1000)).run(before.record());
        first.start();
        for (int s = 0; s < 3; ++s) {
            f.clock.advance(1s);
            first.wait_idle();
        }
        CHECK(before.size() == 3);
    }
    Runs after;
    Scheduler second(f.options(2));
    second.job("tick").cron("* * * * * *").misfire(Misfire::fire_all(1000)).run(after.record());
    second.start();
    second.wait_idle();
    CHECK(after.size() == 0);
    f.clock.advance(1s);
    second.wait_idle();
    CHECK(after.isos() == Strings{"2026-01-01T00:00:04Z"});
}

TEST_CASE("an at job interrupted before its run ended fires again after a restart", "[scheduler][recovery]") {
    Fixture f;
    const auto when = wall("2026-01-01T00:00:05Z");
    {
        Scheduler first(f.options(1));
        Gate gate;
        Fixture::hold_a_worker(first, gate);
        first.job("once").at(when).run([](JobContext&) {});
        f.clock.advance(5s);
        // Give the timer thread the fire: wait until the at job is no longer armed.
        REQUIRE(eventually([&] { return !first.find("once")->info()->next_fire.has_value(); }));
        (void)first.stop(0ms);
        gate.open();
    }
    Runs after;
    Scheduler second(f.options(1));
    second.job("once").at(when).run(after.record());
    second.start();
    second.wait_idle();
    CHECK(after.isos() == Strings{"2026-01-01T00:00:05Z"});
}

TEST_CASE("coalesce keeps one run waiting and reports the other fires", "[scheduler][coalesce]") {
    Fixture f;
    Runs ticks;
    Scheduler sched(f.options(1));
    Gate gate;
    Fixture::hold_a_worker(sched, gate);
    auto tick = sched.job("tick").every(1s).coalesce().run(ticks.record());
    for (int s = 0; s < 5; ++s) {
        f.clock.advance(1s);
        REQUIRE(eventually([&] { return f.events->count(EventKind::scheduled, "tick") >= std::uint64_t(s + 2); }));
    }
    gate.open();
    sched.wait_idle();
    CHECK(ticks.size() == 1);  // one waited; four were coalesced
    std::uint64_t coalesced = 0;
    for (const auto& e : f.events->of(EventKind::skipped))
        if (e.job == "tick" && e.detail == "coalesced") coalesced += e.count;
    CHECK(coalesced == 4);
    CHECK(tick.info()->skip_count == 4);
}

TEST_CASE("an overlapping run is skipped before it starts", "[scheduler][overlap]") {
    Fixture f;
    std::atomic<int> entered{0};
    Scheduler sched(f.options(2));
    Gate gate;
    auto job = sched.job("slow").cron("* * * * * *").skip_if_running().run([&, opened = gate.opened](JobContext&) {
        ++entered;
        opened.wait();
    });
    sched.start();
    f.clock.advance(1s);
    REQUIRE(eventually([&] { return entered.load() == 1; }));
    f.clock.advance(1s);  // the second fire finds the first still running
    REQUIRE(eventually([&] {
        for (const auto& e : f.events->of(EventKind::finished))
            if (e.outcome == Outcome::skipped) return true;
        return false;
    }));
    gate.open();
    sched.wait_idle();
    CHECK(entered.load() == 1);
    const auto skipped_fire = wall("2026-01-01T00:00:02Z");
    for (const auto& e : f.events->of(EventKind::started)) CHECK(e.fire_time != skipped_fire);
    bool found = false;
    for (const auto& e : f.events->of(EventKind::finished)) {
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

TEST_CASE("JobInfo counts attempts apart from runs", "[scheduler][info]") {
    Fixture f;
    Scheduler sched(f.options(1));
    auto job = sched.job("flaky").cron("* * * * * *").retry(txflow::retry::fixed(0ms).attempts(3)).run([](JobContext&) {
        throw std::runtime_error("nope");
    });
    sched.start();
    f.clock.advance(1s);
    sched.wait_idle();
    const auto info = job.info();
    CHECK(info->run_count == 1);
    CHECK(info->attempt_count == 3);
    CHECK(info->skip_count == 0);
}
