// A victim that ignores the request past the grace keeps running, is
// reported, and the waiting run gets a lent worker. On a ManualClock: the
// grace runs out only when the test advances the clock.
#include <catch2/catch.hpp>

#include "core/preempt_support.hpp"
#include "txflow/observe/metrics.hpp"

namespace preempt_grace_test {

using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using txflow::JobContext;
using txflow::Priority;
using txflow::Scheduler;
using txflow::test::eventually;
using txflow::test::Gate;
using txflow::test::info;
using txflow::test::kPreemptEpoch;
using txflow::test::preempt_options;
using txflow::test::preempted_jobs;
using Strings = std::vector<std::string>;

TEST_CASE("a victim ignoring the request past the grace keeps running; a worker is lent to the waiting run",
          "[scheduler][preempt]") {
    txflow::ManualClock clock(kPreemptEpoch);
    auto events = std::make_shared<txflow::testing::EventLog>();
    auto registry = std::make_shared<txflow::observe::Registry>();
    Scheduler sched(preempt_options(clock, events, 1).preempt_grace(500ms).metrics(registry));
    Gate gate;
    std::atomic<bool> stubborn_running{false};
    std::atomic<int> stubborn_runs{0};
    std::atomic<bool> urgent_saw_stubborn{false};
    std::atomic<int> urgent_runs{0};
    sched.job("stubborn").after(0ms).priority(Priority::low).preemptible().run([&, opened = gate.opened](JobContext&) {
        ++stubborn_runs;
        stubborn_running = true;
        opened.wait();  // never looks at its stop token
        stubborn_running = false;
    });
    auto urgent = sched.job("urgent").after(1h).priority(Priority::critical).run([&](JobContext&) {
        urgent_saw_stubborn = stubborn_running.load();
        ++urgent_runs;
    });
    sched.start();
    REQUIRE(eventually([&] { return stubborn_running.load(); }));

    urgent.trigger_now();
    REQUIRE(eventually([&] { return preempted_jobs(*events, "requested") == Strings{"stubborn"}; }));
    clock.advance(499ms);
    std::this_thread::sleep_for(20ms);  // the timer thread has a chance to (wrongly) act
    CHECK(urgent_runs == 0);
    CHECK(preempted_jobs(*events, "grace_expired").empty());

    clock.advance(1ms);
    REQUIRE(eventually([&] { return urgent_runs == 1; }));
    CHECK(urgent_saw_stubborn);  // it ran beside the stubborn run, on the lent worker
    CHECK(preempted_jobs(*events, "grace_expired") == Strings{"stubborn"});
    // Reported as a metric too, beside the event.
    const std::string exposed = registry->expose();
    CHECK_THAT(exposed, Contains(R"(txflow_job_preemptions_total{job="stubborn",result="requested"} 1)"));
    CHECK_THAT(exposed, Contains(R"(txflow_job_preemptions_total{job="stubborn",result="grace_expired"} 1)"));
    CHECK_THAT(exposed, !Contains(R"(result="yielded")"));

    gate.open();
    sched.wait_idle();
    // Not re-queued: it ran once, to its end, and nothing yielded.
    CHECK(stubborn_runs == 1);
    CHECK(preempted_jobs(*events, "yielded").empty());
    CHECK(info(sched, "stubborn").run_count == 1);
    CHECK(info(sched, "stubborn").preemption_count == 1);

    // The pool is back to one worker: a second urgent run waits for the
    // (polite, now finished) worker rather than a lent one.
    urgent.trigger_now();
    sched.wait_idle();
    CHECK(urgent_runs == 2);
}

TEST_CASE("a victim that yields within the grace gets no lent worker", "[scheduler][preempt]") {
    txflow::ManualClock clock(kPreemptEpoch);
    auto events = std::make_shared<txflow::testing::EventLog>();
    Scheduler sched(preempt_options(clock, events, 1).preempt_grace(500ms));
    txflow::test::PreemptLog low;
    std::atomic<int> urgent_runs{0};
    sched.job("low").after(0ms).priority(Priority::low).preemptible().run(txflow::test::polite_worker(low));
    auto urgent = sched.job("urgent").after(1h).priority(Priority::critical).run([&](JobContext&) { ++urgent_runs; });
    sched.start();
    REQUIRE(eventually([&] { return low.started == 1; }));
    urgent.trigger_now();
    REQUIRE(eventually([&] { return urgent_runs == 1 && low.ended == 1; }));
    sched.wait_idle();
    clock.advance(1s);  // the grace timer was disarmed when the victim yielded
    sched.wait_idle();
    CHECK(preempted_jobs(*events, "grace_expired").empty());
    CHECK(preempted_jobs(*events, "yielded") == Strings{"low"});
}

}  // namespace preempt_grace_test
