// Control calls and options of the scheduler that change when runs happen:
// reschedule_cron / reschedule_every, named rate limiters, misfire_grace,
// wall_check_interval, and a bounded executor backlog (block, reject,
// drop_oldest). On a manual clock where the behaviour allows it.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/recorders.hpp"
#include "support/test_support.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/testing.hpp"

namespace scheduler_control_test {

using namespace std::chrono_literals;
using txflow::EventKind;
using txflow::JobContext;
using txflow::JobHandle;
using txflow::Misfire;
using txflow::Outcome;
using txflow::OverflowPolicy;
using txflow::ScheduleError;
using txflow::Scheduler;
using txflow::SchedulerOptions;
using txflow::WallTime;
using txflow::test::eventually;
using txflow::test::iso;
using txflow::test::quiet_logger;
using txflow::test::wall;
using Runs = txflow::test::RunRecorder;

namespace {

// The kit's manual-clock scheduler with `workers` workers (seed 7), and the next fire of a job as text.
struct Fixture : txflow::testing::SchedulerFixture {
    explicit Fixture(SchedulerOptions options = {}, std::size_t workers = 2)
        : SchedulerFixture({.scheduler = options.workers(workers)}) {}

    std::string next_fire(const JobHandle& job) const {
        const auto info = job.info();
        return info && info->next_fire ? iso(*info->next_fire) : std::string("none");
    }
};

}  // namespace

// ---------------------------------------------------------------- reschedule_every

TEST_CASE_METHOD(Fixture, "reschedule_every replaces the period, counted from the call",
                 "[scheduler][control][reschedule]") {
    Runs runs;
    auto beat = scheduler().job("beat").every(10s).run(runs.record());
    scheduler().start();
    advance(13s);
    REQUIRE(runs.size() == 1);
    REQUIRE(beat.reschedule_every(2s));
    CHECK(beat.info()->schedule == "every 2s");
    advance(7s);  // 20 s: the old period would fire here, the new one fired at 15, 17 and 19
    CHECK(runs.isos() == std::vector<std::string>{"2026-01-01T00:00:10Z", "2026-01-01T00:00:15Z",
                                                  "2026-01-01T00:00:17Z", "2026-01-01T00:00:19Z"});
}

TEST_CASE_METHOD(Fixture, "reschedule_every turns a cron job or a finished one-shot into a periodic job",
                 "[scheduler][control][reschedule]") {
    Runs cron_runs;
    Runs once_runs;
    auto nightly = scheduler().job("nightly").cron("0 0 3 * * *").run(cron_runs.record());
    auto once = scheduler().job("once").after(1s).run(once_runs.record());
    scheduler().start();
    advance(2s);
    REQUIRE(once_runs.size() == 1);
    CHECK(next_fire(once) == "none");  // done

    REQUIRE(nightly.reschedule_every(5s));
    REQUIRE(once.reschedule_every(5s));
    CHECK(next_fire(nightly) == "2026-01-01T00:00:07Z");
    advance(10s);
    CHECK(cron_runs.isos() == std::vector<std::string>{"2026-01-01T00:00:07Z", "2026-01-01T00:00:12Z"});
    CHECK(once_runs.isos() ==
          std::vector<std::string>{"2026-01-01T00:00:01Z", "2026-01-01T00:00:07Z", "2026-01-01T00:00:12Z"});
}

TEST_CASE_METHOD(Fixture, "reschedule_every refuses a non-positive period and a removed job",
                 "[scheduler][control][reschedule]") {
    Runs runs;
    auto beat = scheduler().job("beat").every(10s).run(runs.record());
    scheduler().start();
    CHECK_THROWS_AS(beat.reschedule_every(0ms), ScheduleError);
    CHECK_THROWS_AS(beat.reschedule_every(-1s), ScheduleError);
    CHECK(beat.info()->schedule == "every 10s");  // unchanged
    advance(10s);
    CHECK(runs.size() == 1);

    REQUIRE(beat.remove());
    CHECK_FALSE(beat.reschedule_every(1s));
    CHECK_FALSE(JobHandle{}.reschedule_every(1s));
    advance(10s);
    CHECK(runs.size() == 1);
}

// ---------------------------------------------------------------- reschedule_cron

TEST_CASE_METHOD(Fixture, "reschedule_cron replaces the schedule; the next fire follows the new expression",
                 "[scheduler][control][reschedule]") {
    Runs runs;
    auto poll = scheduler().job("poll").every(1h).run(runs.record());
    scheduler().start();
    advance(5s);
    REQUIRE(poll.reschedule_cron("*/15 * * * * *"));
    CHECK(poll.info()->schedule == "*/15 * * * * *");
    CHECK(next_fire(poll) == "2026-01-01T00:00:15Z");
    advance(40s);
    CHECK(runs.isos() ==
          std::vector<std::string>{"2026-01-01T00:00:15Z", "2026-01-01T00:00:30Z", "2026-01-01T00:00:45Z"});
    REQUIRE(poll.reschedule_cron("0 0 * * * *"));
    CHECK(next_fire(poll) == "2026-01-01T01:00:00Z");
}

TEST_CASE_METHOD(Fixture, "reschedule_cron keeps the job's zone unless the expression names one",
                 "[scheduler][control][reschedule]") {
    auto report = scheduler().job("report").cron("0 0 9 * * *").in_zone("Europe/Berlin").run([](JobContext&) {});
    scheduler().start();
    CHECK(next_fire(report) == "2026-01-01T08:00:00Z");  // 09:00 in Berlin, UTC+1 in winter
    REQUIRE(report.reschedule_cron("0 30 9 * * *"));
    CHECK(next_fire(report) == "2026-01-01T08:30:00Z");
    // CRON_TZ= wins over a zone given elsewhere (docs/cron.md).
    REQUIRE(report.reschedule_cron("CRON_TZ=America/New_York 0 30 9 * * *"));
    CHECK(next_fire(report) == "2026-01-01T14:30:00Z");  // 09:30 in New York, UTC-5
}

TEST_CASE_METHOD(Fixture, "reschedule_cron with a bad expression throws and leaves the job as it was",
                 "[scheduler][control][reschedule]") {
    Runs runs;
    auto tick = scheduler().job("tick").cron("*/10 * * * * *").run(runs.record());
    scheduler().start();
    CHECK_THROWS_WITH(tick.reschedule_cron("0 0 25 * * *"),
                      "job 'tick': hour (field 3, col 5): 25 is out of range 0-23");
    CHECK_THROWS_AS(tick.reschedule_cron("not cron"), ScheduleError);
    CHECK(tick.info()->schedule == "*/10 * * * * *");
    advance(20s);
    CHECK(runs.isos() == std::vector<std::string>{"2026-01-01T00:00:10Z", "2026-01-01T00:00:20Z"});

    REQUIRE(tick.remove());
    CHECK_FALSE(tick.reschedule_cron("* * * * * *"));
    CHECK_FALSE(JobHandle{}.reschedule_cron("* * * * * *"));
}

TEST_CASE_METHOD(Fixture, "a paused job rescheduled stays paused, and resumes on the new schedule",
                 "[scheduler][control][reschedule]") {
    Runs runs;
    auto tick = scheduler().job("tick").every(1s).run(runs.record());
    scheduler().start();
    REQUIRE(tick.pause());
    REQUIRE(tick.reschedule_cron("*/5 * * * * *"));
    CHECK(tick.info()->paused);
    advance(12s);
    CHECK(runs.size() == 0);
    REQUIRE(tick.resume());
    advance(8s);  // 20 s
    CHECK(runs.isos() == std::vector<std::string>{"2026-01-01T00:00:15Z", "2026-01-01T00:00:20Z"});
}

// ---------------------------------------------------------------- rate_limiter

TEST_CASE_METHOD(Fixture, "Scheduler::rate_limiter: one bucket per name, shared by the jobs that use it",
                 "[scheduler][control][rate]") {
    const auto db = scheduler().rate_limiter("db", 1.0, 2.0);
    REQUIRE(db != nullptr);
    CHECK(scheduler().rate_limiter("db", 50.0, 50.0) == db);  // the first use sets rate and burst
    CHECK(db->rate() == 1.0);
    CHECK(db->burst() == 2.0);
    CHECK(scheduler().rate_limiter("cache", 1.0, 2.0) != db);

    std::atomic<int> shared_runs{0};
    std::atomic<int> own_runs{0};
    scheduler().job("a").every(1s).rate_limit(db).run([&](JobContext&) { ++shared_runs; });
    scheduler().job("b").every(1s).rate_limit(scheduler().rate_limiter("db", 1.0, 2.0)).run([&](JobContext&) {
        ++shared_runs;
    });
    scheduler().job("c").every(1s).rate_limit(1.0, 2.0).run([&](JobContext&) { ++own_runs; });
    scheduler().start();
    advance(10s);
    // a and b: 20 fires for the burst of 2 and one token a second after it.
    CHECK(shared_runs == 2 + 9);
    CHECK(own_runs == 10);
    std::size_t rate_limited = 0;
    for (const auto& e : event_log().of(EventKind::finished))
        if (e.outcome == Outcome::skipped && e.error == "rate limited") ++rate_limited;
    CHECK(rate_limited == 9);
}

// ---------------------------------------------------------------- misfire_grace

TEST_CASE("misfire_grace: a cron fire later than the grace is a misfire, within it a late run",
          "[scheduler][control][misfire]") {
    auto late_fire = [](std::chrono::milliseconds grace, std::chrono::milliseconds lateness) {
        Fixture f(SchedulerOptions{}.misfire_grace(grace));
        Runs runs;
        f.scheduler().job("minutely").cron("0 * * * * *").misfire(Misfire::skip()).run(runs.record());
        f.scheduler().start();
        f.clock().advance(60s + lateness);  // the timer wakes this late for the 00:01:00 fire
        f.scheduler().wait_idle();
        struct Result {
            std::vector<std::string> runs;
            std::uint64_t skipped;
            std::uint64_t misfire_count;
        };
        return Result{runs.isos(), f.event_log().count(EventKind::skipped, "minutely"),
                      f.scheduler().find("minutely")->info()->misfire_count};
    };
    SECTION("3 s late, grace 5 s: runs") {
        const auto r = late_fire(5s, 3s);
        CHECK(r.runs == std::vector<std::string>{"2026-01-01T00:01:00Z"});
        CHECK(r.skipped == 0);
        CHECK(r.misfire_count == 0);
    }
    SECTION("3 s late, grace 1 s (the default): skipped as a misfire") {
        const auto r = late_fire(1000ms, 3s);
        CHECK(r.runs.empty());
        CHECK(r.skipped == 1);
        CHECK(r.misfire_count == 1);
    }
    SECTION("6 s late, grace 5 s: skipped as a misfire") {
        const auto r = late_fire(5s, 6s);
        CHECK(r.runs.empty());
        CHECK(r.skipped == 1);
    }
}

// ---------------------------------------------------------------- wall_check_interval

namespace {

// Real time, except that the wall clock can be stepped (as NTP does) without
// telling anyone: the scheduler notices only when it next reads it.
class SteppableWallClock final : public txflow::Clock {
public:
    explicit SteppableWallClock(WallTime start) : offset_ms_((start - real_wall()).count()) {}
    [[nodiscard]] txflow::SteadyTime steady_now() const override { return std::chrono::steady_clock::now(); }
    [[nodiscard]] WallTime wall_now() const override { return real_wall() + std::chrono::milliseconds(offset_ms_); }
    void step(std::chrono::milliseconds d) { offset_ms_ += d.count(); }

private:
    static WallTime real_wall() {
        return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
    }
    std::atomic<std::int64_t> offset_ms_;
};

}  // namespace

TEST_CASE("wall_check_interval: how soon a wall-clock step is noticed when nothing is due",
          "[scheduler][control][wall]") {
    // A fire at noon, 60 s of steady time away; then the wall clock steps
    // 60 s forward. Only a wall check finds the fire due before the steady
    // deadline.
    auto noon_fires = [](std::chrono::milliseconds wall_check, std::chrono::milliseconds watch) {
        SteppableWallClock clock(wall("2026-01-01T11:59:00Z"));
        Runs runs;
        Scheduler sched{
            SchedulerOptions{}.logger(quiet_logger()).workers(1).clock(clock).wall_check_interval(wall_check)};
        sched.job("noon").cron("0 0 12 * * *").run(runs.record());
        sched.start();
        sched.wait_idle();  // the timer thread is waiting for its next wake
        clock.step(60s);
        (void)eventually([&] { return runs.size() != 0; }, watch);
        return runs.isos();
    };
    SECTION("checked every 20 ms: the step is noticed and the fire runs at once") {
        CHECK(noon_fires(20ms, 10s) == std::vector<std::string>{"2026-01-01T12:00:00Z"});
    }
    SECTION("checked every hour: nothing runs before the steady deadline") {
        CHECK(noon_fires(1h, 1500ms).empty());  // longer than the default interval (1 s)
    }
}

// ---------------------------------------------------------------- bounded backlog

namespace {

// One worker, held by the job "gate" until release(); "q1".."q3" queue up behind it.
struct BacklogFixture {
    Fixture f;
    std::atomic<bool> gate_running{false};
    std::atomic<bool> gate_released{false};
    std::mutex mutex;
    std::vector<std::string> ran;
    JobHandle gate;
    std::vector<JobHandle> queued;

    explicit BacklogFixture(OverflowPolicy policy) : f(SchedulerOptions{}.max_backlog(2, policy), 1) {
        gate = f.scheduler().job("gate").after(1h).run([this](JobContext&) {
            gate_running = true;
            while (!gate_released) std::this_thread::sleep_for(1ms);
        });
        for (const char* name : {"q1", "q2", "q3"}) {
            queued.push_back(f.scheduler().job(name).after(1h).run([this](JobContext& ctx) {
                const std::lock_guard lock(mutex);
                ran.emplace_back(ctx.job_name());
            }));
        }
        f.scheduler().start();
    }
    void hold_the_worker() {
        REQUIRE(gate.trigger_now());
        REQUIRE(eventually([&] { return gate_running.load(); }));
    }
    std::vector<std::string> runs() {
        const std::lock_guard lock(mutex);
        return ran;
    }
};

}  // namespace

TEST_CASE("a full backlog through the scheduler: reject refuses the newest run", "[scheduler][control][backlog]") {
    BacklogFixture b(OverflowPolicy::reject);
    b.hold_the_worker();
    for (auto& q : b.queued) CHECK(q.trigger_now());
    const auto rejected = b.f.event_log().of(EventKind::rejected);
    REQUIRE(rejected.size() == 1);
    CHECK(rejected[0].job == "q3");
    b.gate_released = true;
    b.f.scheduler().wait_idle();
    CHECK(b.runs() == std::vector<std::string>{"q1", "q2"});
    CHECK(b.queued[2].info()->run_count == 0);
    CHECK(b.f.event_log().of(EventKind::dropped).empty());
}

TEST_CASE("a full backlog through the scheduler: drop_oldest evicts the oldest queued run",
          "[scheduler][control][backlog]") {
    BacklogFixture b(OverflowPolicy::drop_oldest);
    b.hold_the_worker();
    for (auto& q : b.queued) CHECK(q.trigger_now());
    b.gate_released = true;
    b.f.scheduler().wait_idle();
    const auto dropped = b.f.event_log().of(EventKind::dropped);
    REQUIRE(dropped.size() == 1);
    CHECK(dropped[0].job == "q1");
    CHECK(b.runs() == std::vector<std::string>{"q2", "q3"});
    CHECK(b.f.event_log().of(EventKind::rejected).empty());
}

TEST_CASE("a full backlog through the scheduler: block holds the caller until there is room",
          "[scheduler][control][backlog]") {
    BacklogFixture b(OverflowPolicy::block);
    b.hold_the_worker();
    CHECK(b.queued[0].trigger_now());
    CHECK(b.queued[1].trigger_now());
    std::atomic<bool> third_returned{false};
    std::thread caller([&] {
        (void)b.queued[2].trigger_now();
        third_returned = true;
    });
    CHECK_FALSE(eventually([&] { return third_returned.load(); }, 300ms));
    b.gate_released = true;
    caller.join();
    CHECK(third_returned);
    b.f.scheduler().wait_idle();
    CHECK(b.runs() == std::vector<std::string>{"q1", "q2", "q3"});
    CHECK(b.f.event_log().of(EventKind::rejected).empty());
    CHECK(b.f.event_log().of(EventKind::dropped).empty());
}

}  // namespace scheduler_control_test
