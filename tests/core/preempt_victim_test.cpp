// Priority preemption: which run is asked to yield (lowest priority, then
// the most recently started), that it comes back at once with its
// checkpoint and the same attempt, and that nothing is preempted unless the
// job opted in. On a ManualClock: the grace never runs out here.
#include <catch2/catch.hpp>

#include "core/preempt_support.hpp"

namespace preempt_victim_test {

using namespace std::chrono_literals;
using txflow::JobContext;
using txflow::Priority;
using txflow::Scheduler;
using txflow::test::eventually;
using txflow::test::info;
using txflow::test::kPreemptEpoch;
using txflow::test::polite_worker;
using txflow::test::preempt_options;
using txflow::test::preempted_jobs;
using txflow::test::PreemptLog;
using Strings = std::vector<std::string>;

TEST_CASE("preemption asks the lowest-priority run to yield, and it resumes from its checkpoint",
          "[scheduler][preempt]") {
    txflow::ManualClock clock(kPreemptEpoch);
    auto events = std::make_shared<txflow::testing::EventLog>();
    Scheduler sched(preempt_options(clock, events, 2));
    PreemptLog low;
    PreemptLog normal;
    std::atomic<int> urgent_runs{0};
    sched.job("low")
        .after(0ms)
        .priority(Priority::low)
        .preemptible()
        .retry(txflow::retry::fixed(10ms).attempts(3))
        .run(polite_worker(low));
    sched.job("normal").after(0ms).priority(Priority::normal).preemptible().run(polite_worker(normal));
    auto urgent = sched.job("urgent").after(1h).priority(Priority::critical).run([&](JobContext&) { ++urgent_runs; });
    sched.start();
    REQUIRE(eventually([&] { return low.started == 1 && normal.started == 1; }));

    urgent.trigger_now();
    REQUIRE(eventually([&] { return urgent_runs == 1 && low.ended == 1; }));
    REQUIRE(eventually([&] { return info(sched, "low").last_outcome == txflow::Outcome::succeeded; }));

    CHECK(preempted_jobs(*events, "requested") == Strings{"low"});
    CHECK(preempted_jobs(*events, "yielded") == Strings{"low"});
    CHECK(low.yielded == 1);
    CHECK(low.restored_copy() == Strings{"", "half"});
    CHECK(low.attempts_copy() == std::vector<std::uint32_t>{1, 1});  // no retry attempt spent
    CHECK(normal.started == 1);
    CHECK(normal.yielded == 0);

    const auto l = info(sched, "low");
    CHECK(l.run_count == 1);
    CHECK(l.attempt_count == 1);
    CHECK(l.preemption_count == 1);
    CHECK(l.last_preemptor == "urgent");
    CHECK(l.preemptible);
    CHECK(info(sched, "urgent").last_victim == "low");
    CHECK(info(sched, "normal").preemption_count == 0);
    // The finished run's checkpoint is used up: the next run starts afresh.
    sched.find("low")->trigger_now();
    REQUIRE(eventually([&] { return low.started == 3; }));
    CHECK(low.restored_copy().back().empty());
}

TEST_CASE("among runs of the same priority, the most recently started yields", "[scheduler][preempt]") {
    txflow::ManualClock clock(kPreemptEpoch);
    auto events = std::make_shared<txflow::testing::EventLog>();
    Scheduler sched(preempt_options(clock, events, 2));
    PreemptLog first;
    PreemptLog second;
    std::atomic<int> urgent_runs{0};
    sched.job("first").after(0ms).priority(Priority::low).preemptible().run(polite_worker(first));
    auto later = sched.job("second").after(1h).priority(Priority::low).preemptible().run(polite_worker(second));
    auto urgent = sched.job("urgent").after(1h).priority(Priority::high).run([&](JobContext&) { ++urgent_runs; });
    sched.start();
    REQUIRE(eventually([&] { return first.started == 1; }));
    later.trigger_now();
    REQUIRE(eventually([&] { return second.started == 1; }));

    urgent.trigger_now();
    REQUIRE(eventually([&] { return urgent_runs == 1 && second.ended == 1; }));
    CHECK(preempted_jobs(*events, "requested") == Strings{"second"});
    CHECK(first.yielded == 0);
}

TEST_CASE("runs of equal or higher priority, and jobs that did not opt in, are never preempted",
          "[scheduler][preempt]") {
    txflow::ManualClock clock(kPreemptEpoch);
    auto events = std::make_shared<txflow::testing::EventLog>();
    Scheduler sched(preempt_options(clock, events, 2));
    PreemptLog plain;
    PreemptLog peer;
    std::atomic<int> urgent_runs{0};
    sched.job("plain").after(0ms).priority(Priority::low).run(polite_worker(plain));
    sched.job("peer").after(0ms).priority(Priority::high).preemptible().run(polite_worker(peer));
    auto urgent = sched.job("urgent").after(1h).priority(Priority::high).run([&](JobContext&) { ++urgent_runs; });
    sched.start();
    REQUIRE(eventually([&] { return plain.started == 1 && peer.started == 1; }));

    urgent.trigger_now();
    // Nothing may yield: the urgent run waits. Give the scheduler a real
    // chance to (wrongly) act before looking.
    std::this_thread::sleep_for(50ms);
    CHECK(urgent_runs == 0);
    CHECK(events->of(txflow::EventKind::preempted).empty());
    CHECK(plain.yielded == 0);
    CHECK(peer.yielded == 0);
}

TEST_CASE("a run preempted as often as the starvation cap finishes its next attempt", "[scheduler][preempt]") {
    txflow::ManualClock clock(kPreemptEpoch);
    auto events = std::make_shared<txflow::testing::EventLog>();
    Scheduler sched(preempt_options(clock, events, 1).preempt_starvation_cap(1));
    PreemptLog low;
    std::atomic<int> urgent_runs{0};
    std::atomic<bool> release{false};
    sched.job("low").after(0ms).priority(Priority::low).preemptible().run([&](JobContext& ctx) {
        low.start(ctx);
        while (!ctx.stop_token().stop_requested() && !release) std::this_thread::sleep_for(1ms);
        if (ctx.preempted()) {
            ctx.checkpoint("again");
            ++low.yielded;
            return;
        }
        ++low.ended;
    });
    auto urgent = sched.job("urgent").after(1h).priority(Priority::critical).run([&](JobContext&) { ++urgent_runs; });
    sched.start();
    REQUIRE(eventually([&] { return low.started == 1; }));
    urgent.trigger_now();
    REQUIRE(eventually([&] { return urgent_runs == 1 && low.started == 2; }));

    urgent.trigger_now();  // the resumed run is not preemptible any more: urgent waits
    std::this_thread::sleep_for(50ms);
    CHECK(urgent_runs == 1);
    CHECK(preempted_jobs(*events, "requested") == Strings{"low"});
    release = true;
    REQUIRE(eventually([&] { return urgent_runs == 2 && low.ended == 1; }));
    CHECK(info(sched, "low").preemption_count == 1);
    CHECK(low.restored_copy() == Strings{"", "again"});
}

}  // namespace preempt_victim_test
