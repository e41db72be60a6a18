// The two-phase protocol on a ManualClock: all yes, one no, a prepare
// timeout, a commit that fails twice, an abort during prepare, a commit that
// stalls (and the alert it raises).
#include <catch2/catch.hpp>

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "saga/atomic_test_kit.hpp"
#include "txflow/testing/scheduler_fixture.hpp"

namespace atomic_protocol_test {

using namespace std::chrono_literals;
using txflow::Atomic;
using txflow::EventKind;
using txflow::atomic::Context;
using txflow::atomic::ParticipantState;
using txflow::atomic::Phase;
using txflow::atomic::State;
using txflow::atomic::Vote;
using txflow::test::AtomicLedger;
using txflow::test::with_participant;
using txflow::testing::SchedulerFixture;

namespace {

bool has_event(const SchedulerFixture& f, EventKind kind, const std::string& id, const std::string& detail) {
    for (const auto& e : f.events(kind, id))
        if (e.detail == detail) return true;
    return false;
}

// Waits (bounded, real time) until its stop token is asked to stop; says whether it was.
bool wait_for_stop(const Context& ctx) {
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    auto token = ctx.stop_token();
    return cv.wait_for(lock, token, 10s, [] { return false; }) || token.stop_requested();
}

// Bounded: until participant `index` of `txn` has voted (polled from a participant's thread).
bool wait_for_vote(txflow::Scheduler& s, const std::string& txn, std::size_t index) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
        const auto info = s.transaction(txn);
        if (info && info->participants[index].state != ParticipantState::preparing) return true;
        std::this_thread::sleep_for(1ms);
    }
    return false;
}

}  // namespace

TEST_CASE_METHOD(SchedulerFixture, "all participants vote yes: every one commits under its own key", "[atomic]") {
    AtomicLedger ledger;
    auto def =
        with_participant(with_participant(with_participant(Atomic("transfer"), "a", ledger), "b", ledger), "c", ledger)
            .build();
    const auto info = run_atomic(def, {{"amount", 10}}, "order-1");
    CHECK(info.state == State::committed);
    CHECK(ledger.count(Phase::prepare) == 3);
    CHECK(ledger.count(Phase::abort) == 0);
    for (const std::string p : {"a", "b", "c"}) {
        const auto commits = ledger.calls(p, Phase::commit);
        REQUIRE(commits.size() == 1);
        CHECK(commits[0].key == "order-1/" + p + "/commit");
    }
    for (const auto& p : info.participants) CHECK(p.state == ParticipantState::committed);
    CHECK(has_event(*this, EventKind::saga, "order-1", "preparing->committing"));
    CHECK(has_event(*this, EventKind::saga, "order-1", "committing->committed"));
    // The same key again: the same transaction, nothing runs twice.
    CHECK(scheduler().start_atomic(def, {}, "order-1") == "order-1");
    settle();
    CHECK(ledger.count(Phase::prepare) == 3);
}

TEST_CASE_METHOD(SchedulerFixture, "one participant votes no: every participant aborts, none commits", "[atomic]") {
    AtomicLedger ledger;
    auto def = with_participant(with_participant(Atomic("transfer"), "a", ledger), "b", ledger, [](Context&) {
                   return Vote::refuse("insufficient funds");
               }).build();
    const auto info = run_atomic(def, {}, "order-2");
    CHECK(info.state == State::aborted);
    CHECK(info.reason == "participant 'b' voted no: insufficient funds");
    CHECK(ledger.count(Phase::commit) == 0);
    CHECK(ledger.calls("a", Phase::abort).size() == 1);
    CHECK(ledger.calls("b", Phase::abort).size() == 1);
    CHECK(ledger.calls("a", Phase::abort)[0].key == "order-2/a/abort");
    CHECK(info.participants[1].reason == "insufficient funds");
    CHECK(has_event(*this, EventKind::saga, "order-2", "preparing->aborting"));
    CHECK(has_event(*this, EventKind::saga, "order-2", "aborting->aborted"));
}

TEST_CASE_METHOD(SchedulerFixture, "a prepare that throws is a no", "[atomic]") {
    AtomicLedger ledger;
    auto def = with_participant(with_participant(Atomic("transfer"), "a", ledger), "b", ledger, [](Context&) -> Vote {
                   throw std::runtime_error("connection refused");
               }).build();
    const auto info = run_atomic(def, {}, "order-3");
    CHECK(info.state == State::aborted);
    CHECK(info.reason == "participant 'b' voted no: connection refused");
    CHECK(ledger.count(Phase::commit) == 0);
}

TEST_CASE_METHOD(SchedulerFixture, "a prepare that outlives its timeout is a no, and is asked to stop", "[atomic]") {
    AtomicLedger ledger;
    std::atomic<bool> stopped{false};
    std::atomic<bool> a_voted{false};
    auto def = with_participant(with_participant(Atomic("transfer").prepare_timeout(1s), "a", ledger), "slow", ledger,
                                [&](Context& ctx) {
                                    a_voted = wait_for_vote(scheduler(), "order-4", 0);  // a's timeout must not fire
                                    clock().advance(2s);  // the prepare takes 2 s of the clock's time
                                    stopped = wait_for_stop(ctx);
                                    return Vote::commit();  // too late: the timeout voted already
                                })
                   .build();
    const auto info = run_atomic(def, {}, "order-4");
    CHECK(a_voted);
    CHECK(stopped);
    CHECK(info.state == State::aborted);
    CHECK(info.reason == "participant 'slow' voted no: prepare timed out after 1000 ms");
    CHECK(ledger.count(Phase::commit) == 0);
    CHECK(ledger.calls("slow", Phase::abort).size() == 1);
    CHECK(ledger.calls("a", Phase::abort).size() == 1);
}

TEST_CASE_METHOD(SchedulerFixture, "a commit that fails twice is retried with the same key until it succeeds",
                 "[atomic]") {
    AtomicLedger ledger;
    ledger.fail_commits("b", 2);
    auto def = with_participant(with_participant(Atomic("transfer"), "a", ledger), "b", ledger).build();
    const auto started = now();
    const auto info = run_atomic(def, {}, "order-5");
    CHECK(info.state == State::committed);
    const auto commits = ledger.calls("b", Phase::commit);
    REQUIRE(commits.size() == 3);
    for (std::uint32_t i = 0; i < 3; ++i) {
        CHECK(commits[i].key == "order-5/b/commit");
        CHECK(commits[i].attempt == i + 1);
    }
    CHECK(info.participants[1].attempts == 3);
    CHECK(info.participants[1].last_error == "commit refused (0 more)");
    CHECK(now() - started >= 300ms);  // backoff 100 ms, then 200 ms
    CHECK(ledger.calls("a", Phase::commit).size() == 1);
    CHECK(ledger.count(Phase::abort) == 0);
}

TEST_CASE_METHOD(SchedulerFixture, "a no during another's prepare stops it, and that one aborts after it returns",
                 "[atomic]") {
    AtomicLedger ledger;
    std::atomic<bool> stopped{false};
    std::promise<void> slow_began;
    auto began = slow_began.get_future().share();
    auto def = with_participant(with_participant(Atomic("transfer"), "slow", ledger,
                                                 [&](Context& ctx) {
                                                     slow_began.set_value();
                                                     stopped = wait_for_stop(ctx);
                                                     return Vote::commit();
                                                 }),
                                "no", ledger,
                                [began](Context&) {
                                    (void)began.wait_for(10s);  // no while slow is preparing
                                    return Vote::refuse("closed");
                                })
                   .build();
    const auto info = run_atomic(def, {}, "order-6");
    CHECK(stopped);
    CHECK(info.state == State::aborted);
    CHECK(ledger.count(Phase::commit) == 0);
    // slow's abort came after its prepare returned.
    const auto calls = ledger.calls();
    std::size_t prepare_at = calls.size(), abort_at = calls.size();
    for (std::size_t i = 0; i < calls.size(); ++i) {
        if (calls[i].participant != "slow") continue;
        if (calls[i].phase == Phase::prepare) prepare_at = i;
        if (calls[i].phase == Phase::abort) abort_at = i;
    }
    CHECK(prepare_at < abort_at);
    CHECK(abort_at < calls.size());
}

TEST_CASE_METHOD(SchedulerFixture,
                 "a commit that keeps failing shows as commit_stalled with an alert, and is "
                 "still retried",
                 "[atomic]") {
    AtomicLedger ledger;
    ledger.fail_commits("b", 1000);
    auto def = with_participant(with_participant(Atomic("transfer").stall_after(3), "a", ledger), "b", ledger).build();
    const auto info = run_atomic(def, {}, "order-7");
    CHECK(info.state == State::commit_stalled);
    CHECK(info.participants[0].state == ParticipantState::committed);
    CHECK(info.participants[1].state == ParticipantState::commit_stalled);
    CHECK(info.participants[1].attempts == 3);
    CHECK_THAT(info.participants[1].last_error, Catch::Contains("commit refused"));
    const auto alerts = events(EventKind::alert, "order-7");
    REQUIRE(alerts.size() == 1);
    CHECK(alerts[0].detail == "commit_stalled: participant b");
    CHECK(scheduler().transactions(State::commit_stalled).size() == 1);
    // Never dropped: it keeps going at the capped backoff, and ends when the participant recovers.
    advance(10min);
    CHECK(ledger.calls("b", Phase::commit).size() > 10);
    ledger.fail_commits("b", 0);
    advance(1min);  // the backoff is capped at 30 s
    const auto done = scheduler().transaction("order-7");
    REQUIRE(done);
    CHECK(done->state == State::committed);
    CHECK(done->participants[1].state == ParticipantState::committed);
    CHECK(ledger.count(Phase::abort) == 0);
}

}  // namespace atomic_protocol_test
