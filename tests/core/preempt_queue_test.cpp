// A run held back by its named queue's concurrency limit (workers may be
// free) preempts a lower-priority run of that same queue, never one elsewhere.
#include <catch2/catch.hpp>

#include "core/preempt_support.hpp"

namespace preempt_queue_test {

using namespace std::chrono_literals;
using namespace txflow::test;
using txflow::JobContext;
using txflow::Priority;
using Strings = std::vector<std::string>;

namespace {

// `workers` workers, a "reports" queue of one slot, and an urgent job in that queue.
struct QueueScene {
    txflow::ManualClock clock{kPreemptEpoch};
    std::shared_ptr<txflow::testing::EventLog> events = std::make_shared<txflow::testing::EventLog>();
    txflow::Scheduler sched;
    std::atomic<int> urgent_runs{0};
    txflow::JobHandle urgent;
    explicit QueueScene(std::size_t workers)
        : sched(preempt_options(clock, events, workers).queue("reports", 1)),
          urgent(sched.job("urgent").after(1h).priority(Priority::critical).queue("reports").run([this](JobContext&) {
              ++urgent_runs;
          })) {}
};

}  // namespace

TEST_CASE("a run waiting for a slot of its queue preempts a lower-priority run of that queue",
          "[scheduler][preempt][queue]") {
    QueueScene s(4);
    PreemptLog in_queue;
    PreemptLog elsewhere;
    // The global choice would be "elsewhere": lower priority, started later.
    s.sched.job("in-queue")
        .after(0ms)
        .priority(Priority::normal)
        .queue("reports")
        .preemptible()
        .run(polite_worker(in_queue));
    auto other = s.sched.job("elsewhere").after(1h).priority(Priority::low).preemptible().run(polite_worker(elsewhere));
    s.sched.start();
    REQUIRE(eventually([&] { return in_queue.started == 1; }));
    other.trigger_now();
    REQUIRE(eventually([&] { return elsewhere.started == 1; }));

    s.urgent.trigger_now();  // two workers are free; the queue's one slot is not
    REQUIRE(eventually([&] { return s.urgent_runs == 1 && in_queue.ended == 1; }));
    CHECK(preempted_jobs(*s.events, "requested") == Strings{"in-queue"});
    CHECK(preempted_jobs(*s.events, "yielded") == Strings{"in-queue"});
    CHECK(in_queue.restored_copy() == Strings{"", "half"});
    CHECK(in_queue.attempts_copy() == std::vector<std::uint32_t>{1, 1});
    CHECK(elsewhere.yielded == 0);
    CHECK(elsewhere.started == 1);
    CHECK(info(s.sched, "urgent").last_victim == "in-queue");
    (void)s.sched.stop(0ms);
}

TEST_CASE("a run waiting for its queue's slot with no lower-priority run in that queue preempts nothing",
          "[scheduler][preempt][queue]") {
    // Both workers busy: yet freeing the one outside the queue would not start the waiting run.
    QueueScene s(2);
    PreemptLog peer;
    PreemptLog elsewhere;
    s.sched.job("peer").after(0ms).priority(Priority::critical).queue("reports").preemptible().run(polite_worker(peer));
    s.sched.job("elsewhere").after(0ms).priority(Priority::low).preemptible().run(polite_worker(elsewhere));
    s.sched.start();
    REQUIRE(eventually([&] { return peer.started == 1 && elsewhere.started == 1; }));
    s.urgent.trigger_now();
    std::this_thread::sleep_for(50ms);  // the scheduler's chance to (wrongly) act
    CHECK(s.urgent_runs == 0);
    CHECK(s.events->of(txflow::EventKind::preempted).empty());
    (void)s.sched.stop(0ms);
}

}  // namespace preempt_queue_test
