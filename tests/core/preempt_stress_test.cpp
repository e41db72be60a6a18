// Many jobs at every priority, half of them preemptible, triggered again and
// again on a small pool (real clock, short grace so some victims outlive it):
// every run ends exactly once, every yielded run comes back, nothing hangs.
// Meant for ThreadSanitizer too.
#include <catch2/catch.hpp>

#include <random>

#include "core/preempt_support.hpp"
#include "txflow/saga/saga.hpp"

namespace preempt_stress_test {

using namespace std::chrono_literals;
using txflow::JobContext;
using txflow::Priority;
using txflow::Scheduler;
using txflow::SchedulerOptions;
using txflow::test::quiet_logger;

TEST_CASE("preemption under load: every run ends once, yielded runs resume", "[scheduler][preempt][stress]") {
    constexpr int kJobs = 24;
    constexpr int kRounds = 6;
    auto events = std::make_shared<txflow::testing::EventLog>();
    Scheduler sched(SchedulerOptions{}.workers(3).listener(events).logger(quiet_logger()).preempt_grace(200ms).seed(7));
    std::array<std::atomic<int>, kJobs> ended{};
    std::array<std::atomic<int>, kJobs> resumed_with_checkpoint{};
    std::atomic<int> started{0};
    std::vector<txflow::JobHandle> handles;
    for (int i = 0; i < kJobs; ++i) {
        const auto priority = static_cast<Priority>(i % txflow::kPriorityLevels);
        const bool preemptible = i % 2 == 0;
        const bool stubborn = i % 6 == 0;  // ignores requests for a while: grace expiries
        auto b = sched.job("job-" + std::to_string(i)).after(1h).priority(priority);
        if (preemptible) b.preemptible();
        handles.push_back(b.run([&, i, stubborn](JobContext& ctx) {
            ++started;
            if (const auto& saved = ctx.checkpoint()) {
                ++resumed_with_checkpoint[static_cast<std::size_t>(i)];
                if (*saved == "done") return;  // finished as it was asked to yield (docs/preemption.md)
            }
            const auto until = std::chrono::steady_clock::now() + (stubborn ? 250ms : 5ms);
            while (std::chrono::steady_clock::now() < until) {
                if (!stubborn && ctx.preempted()) {
                    ctx.checkpoint("at-" + std::to_string(i));
                    return;
                }
                std::this_thread::sleep_for(1ms);
            }
            ++ended[static_cast<std::size_t>(i)];
            if (!stubborn) ctx.checkpoint("done");
        }));
    }
    sched.start();
    std::mt19937 rng(42);
    for (int round = 0; round < kRounds; ++round) {
        // The lowest priority first (all preemptible), so that the workers are busy with them when
        // the higher ones arrive (the executor would otherwise just run the
        // higher ones first, and nothing would need preempting).
        std::vector<int> low;
        std::vector<int> high;
        for (int i = 0; i < kJobs; ++i) (i % txflow::kPriorityLevels == 0 ? low : high).push_back(i);
        std::shuffle(low.begin(), low.end(), rng);
        std::shuffle(high.begin(), high.end(), rng);
        const int before = started.load();
        for (int i : low) handles[static_cast<std::size_t>(i)].trigger_now();
        REQUIRE(txflow::test::eventually([&] { return started.load() >= before + 3; }));
        for (int i : high) handles[static_cast<std::size_t>(i)].trigger_now();
        sched.wait_idle();  // bounded: every run ends within its own 250 ms of work
    }
    int yielded = 0;
    for (const auto& e : events->of(txflow::EventKind::preempted))
        if (e.detail == "yielded") ++yielded;
    int resumed = 0;
    for (int i = 0; i < kJobs; ++i) {
        INFO("job-" << i);
        CHECK(ended[static_cast<std::size_t>(i)] == kRounds);  // each trigger's run ended once
        const auto info = txflow::test::info(sched, "job-" + std::to_string(i));
        CHECK(info.run_count == kRounds);
        CHECK(info.attempt_count == kRounds);
        if (i % 2 != 0) CHECK(info.preemption_count == 0);
        resumed += resumed_with_checkpoint[static_cast<std::size_t>(i)];
    }
    CHECK(yielded > 0);
    CHECK(resumed >= yielded);  // every yield came back with its checkpoint (or more: stubborn reads)
    CHECK(events->of(txflow::EventKind::finished).size() == static_cast<std::size_t>(kJobs * kRounds));
}

// Preemptible saga-backed jobs (yielding between steps) and a queue with one
// slot, both contended by higher priorities, round after round: every saga
// succeeds, no step runs twice, nothing is compensated. For ThreadSanitizer too.
TEST_CASE("preemptible sagas and a limited queue under load: no step twice, nothing undone",
          "[scheduler][preempt][stress][saga]") {
    constexpr int kRounds = 8;
    auto events = std::make_shared<txflow::testing::EventLog>();
    Scheduler sched(
        SchedulerOptions{}.workers(2).queue("one", 1).listener(events).logger(quiet_logger()).preempt_grace(200ms));
    std::atomic<int> undone{0};
    const auto work = [](txflow::saga::StepContext&) { std::this_thread::sleep_for(2ms); };
    const auto undo = [&undone](txflow::saga::StepContext&) { ++undone; };
    auto saga = txflow::Saga("etl").step("a", work, undo).step("b", work, undo).step("c", work, undo).build();
    txflow::test::PreemptLog in_queue;
    std::vector<txflow::JobHandle> low;
    std::vector<txflow::JobHandle> high;
    for (int i = 0; i < 3; ++i)
        low.push_back(
            sched.job("etl-" + std::to_string(i)).after(1h).priority(Priority::low).preemptible().run(saga, {}));
    low.push_back(
        sched.job("in-queue").after(1h).priority(Priority::low).queue("one").preemptible().run([&](JobContext& ctx) {
            in_queue.start(ctx);
            for (int k = 0; k < 20 && !ctx.preempted(); ++k) std::this_thread::sleep_for(1ms);
            if (ctx.preempted()) ++in_queue.yielded;
        }));
    for (int i = 0; i < 3; ++i) {
        auto b =
            sched.job("urgent-" + std::to_string(i)).after(1h).priority(i == 0 ? Priority::high : Priority::critical);
        if (i == 0) b.queue("one");
        high.push_back(b.run([](JobContext&) { std::this_thread::sleep_for(1ms); }));
    }
    sched.start();
    for (int round = 0; round < kRounds; ++round) {
        for (auto& h : low) h.trigger_now();
        std::this_thread::sleep_for(3ms);  // not a wait for a condition: lets some steps begin
        for (auto& h : high) h.trigger_now();
        sched.wait_idle();
    }
    const auto sagas = sched.sagas();
    CHECK_FALSE(sagas.empty());
    for (const auto& s : sagas) {
        INFO(s.id);
        CHECK(s.state == txflow::saga::State::succeeded);
        for (const auto& step : s.steps) {
            CHECK(step.attempts == 1);
            CHECK(step.compensation_attempts == 0);
        }
    }
    CHECK(undone == 0);
    CHECK(in_queue.started >= kRounds);
}

}  // namespace preempt_stress_test
