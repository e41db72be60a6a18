// A preemptible saga-backed job yields only between steps: the step in
// progress when a higher priority arrives runs to its end (its own stop token
// untouched), the run gives its worker away at the next boundary, comes back
// without spending an attempt, and goes on at the next step. On a ManualClock.
#include <catch2/catch.hpp>

#include "core/preempt_support.hpp"
#include "txflow/saga/saga.hpp"

namespace preempt_saga_test {

using namespace std::chrono_literals;
using namespace txflow::test;
using txflow::JobContext;
using txflow::Priority;
using txflow::Saga;
using txflow::saga::StepContext;
using Strings = std::vector<std::string>;

namespace {

// What ran, in order, on whichever worker (read by the test thread after a wait).
struct Trace {
    std::mutex mutex;
    Strings order;
    void add(std::string what) {
        const std::lock_guard lock(mutex);
        order.push_back(std::move(what));
    }
    Strings copy() {
        const std::lock_guard lock(mutex);
        return order;
    }
};

// One worker on a ManualClock; `trace` outlives the scheduler's workers.
struct OneWorker {
    txflow::ManualClock clock{kPreemptEpoch};
    std::shared_ptr<txflow::testing::EventLog> events = std::make_shared<txflow::testing::EventLog>();
    Trace trace;
    txflow::Scheduler sched{preempt_options(clock, events, 1)};
};

}  // namespace

TEST_CASE_METHOD(OneWorker, "a saga-backed preemptible job yields between steps and resumes at the next step",
                 "[scheduler][preempt][saga]") {
    Gate step1_gate;
    std::atomic<bool> step1_running{false};
    std::atomic<bool> step1_stop_seen{false};
    const auto step = [this](std::string name) { return [this, name](StepContext&) { trace.add(name); }; };
    const auto undo = [this](std::string name) { return [this, name](StepContext&) { trace.add("undo " + name); }; };
    auto saga = Saga("report")
                    .step(
                        "s1",
                        [&, opened = step1_gate.opened](StepContext& ctx) {
                            trace.add("s1");
                            step1_running = true;
                            opened.wait();  // preemption is asked for while the step runs
                            step1_stop_seen = ctx.stop_token().stop_requested();
                            ctx.data()["s1"] = true;
                        },
                        undo("s1"))
                    .step("s2", step("s2"), undo("s2"))
                    .step("s3", step("s3"), undo("s3"))
                    .build();
    sched.job("nightly").after(0ms).priority(Priority::low).preemptible().run(saga, {{"rows", 3}});
    auto urgent =
        sched.job("urgent").after(1h).priority(Priority::critical).run([&](JobContext&) { trace.add("urgent"); });
    sched.start();
    REQUIRE(eventually([&] { return step1_running.load(); }));

    urgent.trigger_now();
    REQUIRE(eventually([&] { return preempted_jobs(*events, "requested") == Strings{"nightly"}; }));
    CHECK(trace.copy() == Strings{"s1"});  // the urgent run waits: the only worker is inside step 1
    step1_gate.open();
    REQUIRE(eventually([&] { return trace.copy().size() == 4; }));
    sched.wait_idle();

    CHECK(trace.copy() == Strings{"s1", "urgent", "s2", "s3"});  // no step twice, nothing undone
    CHECK_FALSE(step1_stop_seen);                                // the step itself was never asked to stop
    CHECK(preempted_jobs(*events, "yielded") == Strings{"nightly"});
    const auto sagas = sched.sagas();
    REQUIRE(sagas.size() == 1);
    CHECK(sagas[0].state == txflow::saga::State::succeeded);
    CHECK(sagas[0].data["s1"] == true);
    for (const auto& s : sagas[0].steps) CHECK(s.attempts == 1);
    const auto n = info(sched, "nightly");
    CHECK(n.run_count == 1);
    CHECK(n.attempt_count == 1);  // the yield spent no attempt
    CHECK(n.preemption_count == 1);
    CHECK(n.last_preemptor == "urgent");
}

TEST_CASE_METHOD(OneWorker, "a saga-backed job that is not preemptible runs its saga on the saga's own tasks",
                 "[scheduler][preempt][saga]") {
    auto saga = Saga("plain").step("only", [&](StepContext&) { trace.add("only"); }).no_compensation().build();
    sched.job("plain").after(0ms).priority(Priority::low).run(saga, {});
    sched.start();
    REQUIRE(eventually([&] { return trace.copy().size() == 1; }));
    sched.wait_idle();
    CHECK(preempted_jobs(*events, "requested").empty());
    REQUIRE(sched.sagas().size() == 1);
    CHECK(sched.sagas()[0].state == txflow::saga::State::succeeded);
}

}  // namespace preempt_saga_test
