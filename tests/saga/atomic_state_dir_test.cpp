// What `txflow sagas DIR` / `txflow status DIR` read: a state directory's
// atomic transactions, as the WAL left them.
#include <catch2/catch.hpp>

#include <atomic>

#include "saga/atomic_test_kit.hpp"
#include "support/test_support.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/store/state_dir.hpp"
#include "txflow/store/wal_store.hpp"

namespace atomic_state_dir_test {

using namespace std::chrono_literals;
using txflow::Atomic;
using txflow::atomic::Context;
using txflow::atomic::State;
using txflow::atomic::Vote;
using txflow::test::AtomicLedger;
using txflow::test::with_participant;

TEST_CASE("a state directory lists its atomic transactions with their state and acknowledgements",
          "[atomic][state_dir]") {
    const txflow::test::TempDir dir{"atomic-state-dir"};
    AtomicLedger ledger;
    std::atomic<bool> refuse{false};
    auto def = with_participant(with_participant(Atomic("transfer"), "a", ledger), "b", ledger, [&refuse](Context&) {
                   return refuse ? Vote::refuse("closed") : Vote::commit();
               }).build();
    {
        auto wal = txflow::store::WalStore::open({.dir = dir.path()});
        REQUIRE(wal);
        txflow::Scheduler sched(
            txflow::SchedulerOptions{}.workers(2).logger(txflow::test::quiet_logger()).store(std::move(*wal)));
        sched.start();
        CHECK(sched.wait_transaction(sched.start_atomic(def, {}, "t-ok"), 10s)->state == State::committed);
        refuse = true;
        CHECK(sched.wait_transaction(sched.start_atomic(def, {}, "t-no"), 10s)->state == State::aborted);
        sched.stop(5s);
    }
    const auto view = txflow::store::read_state_dir(dir.path());
    REQUIRE(view);
    REQUIRE(view->transactions.size() == 2);
    const auto& no = view->transactions[0];
    const auto& ok = view->transactions[1];
    CHECK(no.id == "t-no");
    CHECK(no.state == "aborted");
    CHECK(no.acked == 2);
    CHECK(no.reason == "participant 'b' voted no: closed");
    CHECK(ok.id == "t-ok");
    CHECK(ok.definition == "transfer");
    CHECK(ok.state == "committed");
    CHECK(ok.participants == 2);
}

}  // namespace atomic_state_dir_test
