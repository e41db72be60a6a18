// A checkpoint goes through the store: a run that yielded and never resumed
// before the scheduler went down reads its progress back after a restart on
// the same write-ahead log; a finished run's checkpoint is forgotten.
#include <catch2/catch.hpp>

#include "core/preempt_support.hpp"
#include "txflow/store/wal_store.hpp"

namespace preempt_checkpoint_test {

using namespace std::chrono_literals;
using txflow::JobContext;
using txflow::Priority;
using txflow::Scheduler;
using txflow::SchedulerOptions;
using txflow::test::eventually;
using txflow::test::Gate;
using txflow::test::quiet_logger;
using txflow::test::TempDir;

namespace {

std::shared_ptr<txflow::store::WalStore> open_wal(const std::filesystem::path& dir) {
    auto wal = txflow::store::WalStore::open({.dir = dir});
    REQUIRE(wal);
    return std::shared_ptr<txflow::store::WalStore>(std::move(*wal));
}

}  // namespace

TEST_CASE("a checkpoint survives a scheduler restart on the WAL store", "[scheduler][preempt][wal]") {
    TempDir dir;
    txflow::ManualClock clock(txflow::WallTime{std::chrono::hours{24 * 365 * 56}});
    {
        auto wal = open_wal(dir.path());
        auto events = std::make_shared<txflow::testing::EventLog>();
        auto sched = std::make_unique<Scheduler>(SchedulerOptions{}
                                                     .workers(1)
                                                     .clock(clock)
                                                     .logger(quiet_logger())
                                                     .store(wal)
                                                     .listener(events)
                                                     .stop_grace(50ms));
        Gate gate;
        txflow::test::PreemptLog work;
        std::atomic<int> urgent_runs{0};
        sched->job("work").after(0ms).priority(Priority::low).preemptible().run(txflow::test::polite_worker(work));
        auto urgent =
            sched->job("urgent").after(1h).priority(Priority::critical).run([&, opened = gate.opened](JobContext&) {
                ++urgent_runs;
                opened.wait();  // holds the only worker: "work" stays queued
            });
        sched->start();
        REQUIRE(eventually([&] { return work.started == 1; }));
        urgent.trigger_now();
        REQUIRE(eventually([&] { return urgent_runs == 1 && work.yielded == 1; }));
        (void)sched->stop(0ms);  // the queued "work" run is cancelled, its checkpoint kept
        gate.open();
        sched.reset();
        CHECK(work.started == 1);
    }
    {
        auto wal = open_wal(dir.path());
        Scheduler sched(SchedulerOptions{}.workers(1).clock(clock).logger(quiet_logger()).store(wal));
        txflow::test::PreemptLog work;
        sched.job("work").after(0ms).priority(Priority::low).preemptible().run(txflow::test::polite_worker(work));
        sched.start();
        REQUIRE(eventually([&] { return work.ended == 1; }));
        sched.wait_idle();
        CHECK(work.restored_copy() == std::vector<std::string>{"half"});
    }
    // Used up by the run that finished: the store forgot it too.
    auto wal = open_wal(dir.path());
    Scheduler sched(SchedulerOptions{}.workers(1).clock(clock).logger(quiet_logger()).store(wal));
    txflow::test::PreemptLog work;
    sched.job("work").after(0ms).priority(Priority::low).preemptible().run(txflow::test::polite_worker(work));
    sched.start();
    REQUIRE(eventually([&] { return work.started == 1; }));
    CHECK(work.restored_copy() == std::vector<std::string>{""});
}

}  // namespace preempt_checkpoint_test
