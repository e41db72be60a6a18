// Burst dispatch (issue 15): many jobs due at the same instant are fired in
// chunks and handed to the executor in batches; every guarantee of a single
// fire holds for each of them (once each, priorities, FIFO among equals, the
// watermark that keeps a done fire from running again after a restart).
#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "support/test_support.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/store/memory_store.hpp"

namespace scheduler_burst_test {

using namespace std::chrono_literals;
using txflow::JobContext;
using txflow::ManualClock;
using txflow::Priority;
using txflow::Scheduler;
using txflow::SchedulerOptions;
using txflow::WallTime;
using txflow::test::eventually;
using txflow::test::Gate;
using txflow::test::quiet_logger;
using txflow::test::wall;

namespace {

// More than two of the timer thread's dispatch chunks (256 fires each).
constexpr std::size_t kJobs = 600;

struct Ran {
    std::mutex mutex;
    std::vector<std::pair<int, WallTime>> runs;  // job index, scheduled time, in run order
    void add(int i, WallTime t) {
        const std::lock_guard lock(mutex);
        runs.emplace_back(i, t);
    }
    std::vector<std::pair<int, WallTime>> copy() {
        const std::lock_guard lock(mutex);
        return runs;
    }
};

Priority priority_of(int i) {
    return i % 3 == 0 ? Priority::high : Priority::normal;
}

void add_jobs(Scheduler& sched, Ran& ran) {
    for (int i = 0; i < static_cast<int>(kJobs); ++i) {
        (void)sched.job("b" + std::to_string(i))
            .cron("* * * * * *")
            .priority(priority_of(i))
            .run([&ran, i](JobContext& ctx) { ran.add(i, ctx.scheduled_time()); });
    }
}

// Starts the scheduler with its one worker taken by a job waiting at `gate`.
void start_holding_the_worker(Scheduler& sched, const Gate& gate) {
    auto holding = std::make_shared<std::atomic<bool>>(false);
    auto hold = sched.job("hold").after(24h).run([holding, opened = gate.opened](JobContext&) {
        *holding = true;
        opened.wait();
    });
    sched.start();
    REQUIRE(hold.trigger_now());
    REQUIRE(eventually([&] { return holding->load(); }));
}

}  // namespace

TEST_CASE("burst: every job due at once fires once, in arming order within a priority", "[scheduler][burst]") {
    ManualClock clock{wall("2026-01-01T00:00:00.500Z")};
    auto store = std::make_shared<txflow::store::MemoryStore>();
    const auto options = [&] {
        return SchedulerOptions{}.workers(1).clock(clock).logger(quiet_logger()).store(store).seed(7);
    };
    {
        Ran ran;
        Scheduler sched(options());
        add_jobs(sched, ran);
        Gate gate;  // the one worker is held while the burst is dispatched
        start_holding_the_worker(sched, gate);
        clock.advance(1s);  // :01 is due for every job
        gate.open();
        sched.wait_idle();
        auto runs = ran.copy();
        REQUIRE(runs.size() == kJobs);
        std::map<int, int> seen;
        for (const auto& [i, t] : runs) {
            ++seen[i];
            CHECK(t == wall("2026-01-01T00:00:01Z"));
        }
        CHECK(seen.size() == static_cast<std::size_t>(kJobs));
        // Second burst: each job fires once more, for :02, this time with the
        // worker running beside the dispatch.
        clock.advance(1s);
        sched.wait_idle();
        runs = ran.copy();
        REQUIRE(runs.size() == 2 * kJobs);
        for (std::size_t k = kJobs; k < runs.size(); ++k) CHECK(runs[k].second == wall("2026-01-01T00:00:02Z"));
        // Within a priority, jobs run in the order they were armed (equal
        // deadlines pop in arming order; chunks and batches keep it), and the
        // burst re-arms them in that order: both bursts ran each priority's
        // jobs in the same order.
        const auto order = [&](std::size_t from, Priority p) {
            std::vector<int> out;
            for (std::size_t k = from; k < from + kJobs; ++k)
                if (priority_of(runs[k].first) == p) out.push_back(runs[k].first);
            return out;
        };
        for (const Priority p : {Priority::high, Priority::normal}) CHECK(order(0, p) == order(kJobs, p));
        (void)sched.stop(1s);
    }
    // Every fire of both bursts ended: a restart on the same store runs none again.
    Ran after;
    Scheduler second(options());
    add_jobs(second, after);
    second.start();
    second.wait_idle();
    CHECK(after.copy().empty());
    clock.advance(1s);
    second.wait_idle();
    CHECK(after.copy().size() == kJobs);
}

TEST_CASE("burst: high priority jobs of a burst run before normal ones queued with them", "[scheduler][burst]") {
    ManualClock clock{wall("2026-01-01T00:00:00.500Z")};
    Ran ran;
    Scheduler sched(SchedulerOptions{}.workers(1).clock(clock).logger(quiet_logger()));
    // Fewer jobs than a chunk: the whole burst is one batch, queued behind the held worker.
    constexpr int kSmall = 90;
    for (int i = 0; i < kSmall; ++i)
        (void)sched.job("p" + std::to_string(i))
            .cron("* * * * * *")
            .priority(priority_of(i))
            .run([&ran, i](JobContext& ctx) { ran.add(i, ctx.scheduled_time()); });
    Gate gate;
    start_holding_the_worker(sched, gate);
    clock.advance(1s);
    // The timer thread's pass (and its one submission) is over once the
    // jobs' next fires are armed: wait for the last job's.
    REQUIRE(eventually([&] {
        const auto j = sched.find("p" + std::to_string(kSmall - 1));
        const auto info = j ? j->info() : std::nullopt;
        return info && info->next_fire == wall("2026-01-01T00:00:02Z");
    }));
    gate.open();
    sched.wait_idle();
    const auto runs = ran.copy();
    REQUIRE(runs.size() == kSmall);
    for (std::size_t k = 0; k < runs.size(); ++k)
        CHECK((priority_of(runs[k].first) == Priority::high) == (k < std::size_t{kSmall} / 3));
}

}  // namespace scheduler_burst_test
