// The prepare deadlines share one host timer (a queue of them, armed for the
// earliest that still counts): a later, shorter deadline fires first, and a
// decided transaction's deadline does not hold up the next one.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>

#include "saga/atomic_test_kit.hpp"
#include "txflow/testing/scheduler_fixture.hpp"

namespace atomic_deadline_test {

using namespace std::chrono_literals;
using txflow::Atomic;
using txflow::atomic::Context;
using txflow::atomic::Phase;
using txflow::atomic::State;
using txflow::atomic::Vote;
using txflow::test::AtomicLedger;
using txflow::test::with_participant;
using txflow::testing::SchedulerFixture;

namespace {

// Prepares until asked to stop (bounded in real time), then says yes: too late
// once the timeout has voted no.
Vote until_stopped(Context& ctx) {
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    auto token = ctx.stop_token();
    cv.wait_for(lock, token, 10s, [] { return false; });
    return Vote::commit();
}

}  // namespace

TEST_CASE_METHOD(SchedulerFixture, "a shorter prepare deadline started later fires first", "[atomic][deadline]") {
    AtomicLedger ledger;
    auto slow_long = with_participant(Atomic("long").prepare_timeout(10s), "slow", ledger, until_stopped).build();
    auto slow_short = with_participant(Atomic("short").prepare_timeout(1s), "slow", ledger, until_stopped).build();
    start();
    scheduler().start_atomic(slow_long, {}, "long-1");
    scheduler().start_atomic(slow_short, {}, "short-1");

    clock().advance(1s);
    const auto short_info = scheduler().wait_transaction("short-1", 10s);
    REQUIRE(short_info);
    CHECK(short_info->state == State::aborted);
    CHECK(short_info->reason == "participant 'slow' voted no: prepare timed out after 1000 ms");
    CHECK(scheduler().transaction("long-1")->state == State::preparing);

    clock().advance(9s);
    const auto long_info = scheduler().wait_transaction("long-1", 10s);
    REQUIRE(long_info);
    CHECK(long_info->state == State::aborted);
    CHECK(long_info->reason == "participant 'slow' voted no: prepare timed out after 10000 ms");
    CHECK(ledger.count(Phase::commit) == 0);
}

TEST_CASE_METHOD(SchedulerFixture, "a decided transaction's deadline neither fires nor holds up the next one",
                 "[atomic][deadline]") {
    AtomicLedger ledger;
    auto quick = with_participant(Atomic("quick").prepare_timeout(1s), "a", ledger).build();
    auto slow = with_participant(Atomic("slow").prepare_timeout(5s), "slow", ledger, until_stopped).build();
    const auto quick_info = run_atomic(quick, {}, "quick-1");  // committed well before its deadline
    REQUIRE(quick_info.state == State::committed);
    scheduler().start_atomic(slow, {}, "slow-1");

    clock().advance(1s);  // the quick one's deadline: nothing to time out
    CHECK(scheduler().transaction("quick-1")->state == State::committed);
    CHECK(scheduler().transaction("slow-1")->state == State::preparing);

    clock().advance(4s);
    const auto slow_info = scheduler().wait_transaction("slow-1", 10s);
    REQUIRE(slow_info);
    CHECK(slow_info->state == State::aborted);
    CHECK(slow_info->reason == "participant 'slow' voted no: prepare timed out after 5000 ms");
    CHECK(scheduler().transaction("quick-1")->state == State::committed);
    CHECK(ledger.calls("a", Phase::commit).size() == 1);
}

}  // namespace atomic_deadline_test
