// Scheduler behaviour on a manual clock: deterministic, no sleeping.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "support/recorders.hpp"
#include "support/test_support.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/testing.hpp"

namespace scheduler_test {

using namespace std::chrono_literals;
using txflow::JobContext;
using txflow::Scheduler;
using txflow::SchedulerOptions;
using txflow::WallTime;
using EventRecorder = txflow::testing::EventLog;
using txflow::test::eventually;
using txflow::test::iso;
using txflow::test::quiet_logger;
using txflow::test::wall;
using Runs = txflow::test::RunRecorder;

namespace {

// The kit's manual-clock scheduler (2 workers), seed 42.
struct Fixture : txflow::testing::SchedulerFixture {
    Fixture() : SchedulerFixture({.seed = 42}) {}
};

}  // namespace

TEST_CASE_METHOD(Fixture, "cron job fires at each wall-clock fire", "[scheduler]") {
    Runs runs;
    scheduler().job("tick").cron("*/10 * * * * *").run(runs.record());
    scheduler().start();
    scheduler().wait_idle();
    CHECK(runs.size() == 0);
    advance(35s);
    CHECK(runs.isos() ==
          std::vector<std::string>{"2026-01-01T00:00:10Z", "2026-01-01T00:00:20Z", "2026-01-01T00:00:30Z"});
    CHECK(event_log().count(txflow::EventKind::misfired) == 0);
    auto info = scheduler().find("tick")->info();
    REQUIRE(info);
    CHECK(info->run_count == 3);
    REQUIRE(info->next_fire);
    CHECK(iso(*info->next_fire) == "2026-01-01T00:00:40Z");
}

TEST_CASE_METHOD(Fixture, "every, after and at jobs", "[scheduler]") {
    Runs every, after, at, delay;
    scheduler().job("every").every(300ms).run(every.record());
    scheduler().job("after").after(1s).run(after.record());
    scheduler().job("at").at(wall("2026-01-01T00:00:02.500Z")).run(at.record());
    scheduler().job("delay").every_fixed_delay(1s).run(delay.record());
    scheduler().start();
    advance(3000ms);
    CHECK(every.size() == 10);  // 0.3, 0.6, ... 3.0
    CHECK(after.isos() == std::vector<std::string>{"2026-01-01T00:00:01Z"});
    CHECK(at.isos() == std::vector<std::string>{"2026-01-01T00:00:02.500Z"});
    CHECK(delay.size() == 3);
    advance(5s);
    CHECK(after.size() == 1);  // one-shot
    CHECK(at.size() == 1);
}

TEST_CASE("a DST day in a zone: the gap fire runs once at 03:00", "[scheduler][dst]") {
    txflow::testing::SchedulerFixture f({.start = "2026-03-07T12:00:00Z", .scheduler = SchedulerOptions{}.workers(1)});
    Runs runs;
    f.scheduler().job("nightly").cron("30 2 * * *").in_zone("America/New_York").run(runs.record());
    f.advance(48h);
    CHECK(runs.isos() == std::vector<std::string>{"2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"});
}

TEST_CASE_METHOD(Fixture, "wall clock jumping forward applies the misfire policy", "[scheduler][clock]") {
    auto policy = GENERATE(txflow::Misfire::fire_once(), txflow::Misfire::skip(), txflow::Misfire::fire_all(3));
    Runs runs;
    scheduler().job("minutely").cron("0 * * * * *").misfire(policy).run(runs.record());
    scheduler().start();
    scheduler().wait_idle();
    clock().jump_wall(10min);  // suspend/NTP: 10 fires became due at once
    scheduler().wait_idle();
    switch (policy.mode) {
        case txflow::Misfire::Mode::fire_once:
            CHECK(runs.isos() == std::vector<std::string>{"2026-01-01T00:10:00Z"});
            CHECK(event_log().count(txflow::EventKind::misfired) == 9);
            break;
        case txflow::Misfire::Mode::skip:
            CHECK(runs.isos() == std::vector<std::string>{"2026-01-01T00:10:00Z"});  // the on-time one
            CHECK(event_log().count(txflow::EventKind::skipped) == 9);
            break;
        case txflow::Misfire::Mode::fire_all:  // catch-up runs may overlap: compare as a set
            CHECK(runs.sorted_isos() ==
                  std::vector<std::string>{"2026-01-01T00:01:00Z", "2026-01-01T00:02:00Z", "2026-01-01T00:03:00Z"});
            CHECK(event_log().count(txflow::EventKind::misfired) == 7);
            break;
    }
    const auto before = runs.size();
    advance(60s);
    CHECK(runs.size() == before + 1);  // back to normal: 00:11:00
}

TEST_CASE_METHOD(Fixture, "wall clock jumping back never fires a wall instant twice", "[scheduler][clock]") {
    Runs runs;
    scheduler().job("minutely").cron("0 * * * * *").run(runs.record());
    scheduler().start();
    advance(61s);
    REQUIRE(runs.isos() == std::vector<std::string>{"2026-01-01T00:01:00Z"});
    clock().jump_wall(-45s);  // wall now 00:00:16 again
    scheduler().wait_idle();
    advance(50s);  // wall passes 00:01:00 a second time
    CHECK(runs.size() == 1);
    advance(60s);  // 00:02:00
    CHECK(runs.isos() == std::vector<std::string>{"2026-01-01T00:01:00Z", "2026-01-01T00:02:00Z"});
}

TEST_CASE_METHOD(Fixture, "pause, resume, remove and trigger from inside a job", "[scheduler][control]") {
    std::atomic<int> a_runs{0}, b_runs{0};
    auto b = scheduler().job("b").every(1s).run([&](JobContext&) { ++b_runs; });
    scheduler().job("a").every(1s).run([&](JobContext& ctx) {
        const int n = ++a_runs;
        if (n == 1) b.pause();
        if (n == 3) b.resume();
        if (n == 4) scheduler().find(ctx.job_name())->trigger_now();
        if (n == 6) scheduler().find(ctx.job_name())->remove();
    });
    scheduler().start();
    advance(2s);  // a: 1 (pauses b), 2; b ran at 1s? both due at 1s: order not fixed
    const int b_after_pause = b_runs.load();
    CHECK(b_after_pause <= 1);
    advance(1s);  // a: 3 -> resume b
    advance(1s);  // a: 4 + triggered 5; b runs
    CHECK(a_runs == 5);
    CHECK(b_runs == b_after_pause + 1);
    advance(1s);  // a: 6 -> removed
    advance(3s);
    CHECK(a_runs == 6);
    CHECK(!scheduler().find("a"));
    CHECK(b.info()->run_count >= 4);
    CHECK_FALSE(scheduler().find("a").has_value());
}

TEST_CASE("10,000 jobs due at the same instant each fire exactly once", "[scheduler][load]") {
    txflow::testing::SchedulerFixture f;
    constexpr int kJobs = 10'000;
    std::vector<std::atomic<int>> counts(kJobs);
    for (int i = 0; i < kJobs; ++i)
        f.scheduler().job(fmt::format("job-{}", i)).after(1s).run([&counts, i](JobContext&) {
            ++counts[static_cast<std::size_t>(i)];
        });
    f.advance(1s);
    f.advance(10s);
    int wrong = 0;
    for (auto& c : counts) wrong += c.load() != 1 ? 1 : 0;
    CHECK(wrong == 0);
}

TEST_CASE("priorities order queued runs, queues cap concurrency", "[scheduler][executor]") {
    txflow::testing::SchedulerFixture f(
        {.scheduler = SchedulerOptions{}.workers(1).aging_step(1h).queue("one-at-a-time", 1)});
    Scheduler& sched = f.scheduler();
    std::mutex mutex;
    std::vector<std::string> order;
    std::atomic<bool> gate_running{false};
    std::atomic<bool> release{false};
    auto gate = sched.job("gate").after(1h).run([&](JobContext&) {
        gate_running = true;
        while (!release) std::this_thread::sleep_for(1ms);
    });
    auto record = [&](JobContext& ctx) {
        const std::lock_guard lock(mutex);
        order.emplace_back(ctx.job_name());
    };
    auto low = sched.job("low").after(1h).priority(txflow::Priority::low).run(record);
    auto normal = sched.job("normal").after(1h).run(record);
    auto high = sched.job("high").after(1h).priority(txflow::Priority::high).run(record);
    auto critical = sched.job("critical").after(1h).priority(txflow::Priority::critical).run(record);
    f.start();
    gate.trigger_now();
    REQUIRE(eventually([&] { return gate_running.load(); }));  // the single worker is busy: the rest queue up
    low.trigger_now();
    normal.trigger_now();
    high.trigger_now();
    critical.trigger_now();
    release = true;
    f.settle();
    CHECK(order == std::vector<std::string>{"critical", "high", "normal", "low"});
}

TEST_CASE("a named queue never runs more than its limit", "[scheduler][executor]") {
    txflow::testing::SchedulerFixture f({.scheduler = SchedulerOptions{}.workers(4).queue("db", 2)});
    Scheduler& sched = f.scheduler();
    std::atomic<int> now{0}, peak{0}, total{0};
    for (int i = 0; i < 12; ++i) {
        sched.job(fmt::format("q{}", i)).after(1s).queue("db").run([&](JobContext&) {
            const int n = ++now;
            int p = peak.load();
            while (n > p && !peak.compare_exchange_weak(p, n)) {
            }
            std::this_thread::sleep_for(2ms);
            --now;
            ++total;
        });
    }
    f.advance(1s);
    CHECK(total == 12);
    CHECK(peak == 2);
}

TEST_CASE_METHOD(Fixture, "bad job definitions are clear errors", "[scheduler]") {
    scheduler().job("x").every(1s).run([](JobContext&) {});
    CHECK_THROWS_WITH(scheduler().job("x").every(1s).run([](JobContext&) {}), "a job named 'x' already exists");
    CHECK_THROWS_WITH(scheduler().job("y").cron("0 0 25 * * *").run([](JobContext&) {}),
                      "job 'y': hour (field 3, col 5): 25 is out of range 0-23");
    CHECK_THROWS_WITH(scheduler().job("z").cron("@daily").in_zone("Mars/Olympus").run([](JobContext&) {}),
                      "job 'z': unknown time zone \"Mars/Olympus\"");
    CHECK_THROWS_AS(scheduler().job("w").run([](JobContext&) {}), txflow::ScheduleError);
    CHECK_THROWS_AS(scheduler().job("v").every(0ms).run([](JobContext&) {}), txflow::ScheduleError);
}

TEST_CASE_METHOD(Fixture, "job exceptions become failed runs and never kill a worker", "[scheduler]") {
    std::atomic<int> ok{0};
    scheduler().job("boom").every(1s).run([](JobContext&) { throw std::runtime_error("disk full"); });
    scheduler().job("fine").every(1s).run([&](JobContext&) { ++ok; });
    scheduler().start();
    advance(5s);
    CHECK(ok == 5);
    auto info = scheduler().find("boom")->info();
    CHECK(info->last_outcome == txflow::Outcome::failed);
    CHECK(info->last_error == "disk full");
    CHECK(info->run_count == 5);
}

TEST_CASE("stop drains, then asks stragglers to stop", "[scheduler][stop]") {
    // A long grace: stop() returns as soon as the job has stopped, however loaded the machine.
    Scheduler sched{SchedulerOptions{}.logger(quiet_logger()).workers(2).stop_grace(30s)};
    std::atomic<bool> cooperative_stopped{false};
    std::atomic<bool> started{false};
    sched.job("cooperative").after(0ms).run([&](JobContext& ctx) {
        started = true;
        while (!ctx.stop_token().stop_requested()) std::this_thread::sleep_for(1ms);
        cooperative_stopped = true;
    });
    sched.start();
    while (!started) std::this_thread::sleep_for(1ms);
    const auto report = sched.stop(50ms);
    CHECK_FALSE(report.drained);
    CHECK(report.stopped_on_request == std::vector<std::string>{"cooperative"});
    CHECK(report.still_running.empty());
    CHECK(cooperative_stopped);
}

TEST_CASE("stress: add, remove and trigger while jobs fire", "[scheduler][stress]") {
    Scheduler sched{SchedulerOptions{}.logger(quiet_logger()).workers(2)};
    std::atomic<std::uint64_t> fired{0};
    sched.start();
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i) {
                const std::string name = fmt::format("s{}-{}", t, i);
                auto h = sched.job(name).every(1ms).run([&](JobContext& ctx) {
                    ++fired;
                    if (ctx.run_number() == 3) (void)sched.find(ctx.job_name());
                });
                h.trigger_now();
                if (i % 3 == 0) h.pause();
                if (i % 3 == 1) h.remove();
                if (i % 5 == 0) h.resume();
                (void)sched.jobs();
                if (i % 7 == 0) std::this_thread::sleep_for(1ms);
            }
        });
    }
    for (auto& th : threads) th.join();
    CHECK(eventually([&] { return fired > 800; }));
    const auto report = sched.stop(2s);
    CHECK(report.drained);
}

TEST_CASE_METHOD(Fixture, "a job removed with runs in flight lives until they end; its name is free at once",
                 "[scheduler][control]") {
    std::atomic<int> old_runs{0};
    std::atomic<int> new_runs{0};
    scheduler().job("x").every(1s).run([&](JobContext& ctx) {
        ++old_runs;
        (void)scheduler().find(ctx.job_name())->remove();  // removes itself while running
        if (ctx.job_name() != "x") old_runs += 100;        // the record (and its name) is still alive
    });
    scheduler().start();
    advance(1s);
    scheduler().job("x").every(1s).run([&](JobContext&) { ++new_runs; });
    advance(3s);
    CHECK(old_runs == 1);
    CHECK(new_runs == 3);
    CHECK(scheduler().jobs().size() == 1);
}

TEST_CASE("a listener may call back into the scheduler", "[scheduler][events]") {
    struct Reentrant : txflow::Listener {
        std::atomic<Scheduler*> sched{nullptr};
        std::atomic<int> calls{0};
        void on_event(const txflow::Event&) override {
            if (auto* s = sched.load()) {
                (void)s->jobs();
                ++calls;
            }
        }
    };
    auto listener = std::make_shared<Reentrant>();
    txflow::testing::SchedulerFixture f({.scheduler = SchedulerOptions{}.workers(2).listener(listener)});
    listener->sched = &f.scheduler();
    f.scheduler().job("minutely").cron("0 * * * * *").run([](JobContext&) {});
    f.scheduler().job("fast").every(1s).run([](JobContext&) {});
    f.advance(180s);             // a stop at every second
    f.clock().jump_wall(10min);  // misfire events too
    f.settle();
    CHECK(listener->calls > 180 * 3);
    CHECK(f.scheduler().find("minutely")->info()->run_count == 4);
}

}  // namespace scheduler_test
