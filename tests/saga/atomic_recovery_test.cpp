// Recovery of atomic transactions after a crash, at each protocol point: the
// log is left as a crash there would leave it, then the scheduler is rebuilt
// on it (restart()). No decision: every participant aborts (presumed abort),
// prepared or not. A decision: it is finished, and only for participants
// that did not acknowledge it.
#include <catch2/catch.hpp>

#include "saga/atomic_test_kit.hpp"
#include "store/record_types.hpp"
#include "txflow/testing/scheduler_fixture.hpp"

namespace atomic_recovery_test {

using namespace std::chrono_literals;
using txflow::Atomic;
using txflow::AtomicRef;
using txflow::atomic::ParticipantState;
using txflow::atomic::Phase;
using txflow::atomic::State;
using txflow::test::AtomicLedger;
using txflow::test::with_participant;
using txflow::testing::FixtureOptions;
using txflow::testing::SchedulerFixture;
using txflow::testing::StoreKind;
namespace rec = txflow::store;

namespace {

struct Recovered : SchedulerFixture {
    explicit Recovered(StoreKind kind = StoreKind::memory) : SchedulerFixture(FixtureOptions{.store = kind}) {
        def = with_participant(with_participant(Atomic("transfer"), "a", ledger), "b", ledger).build();
        setup([this](txflow::Scheduler& s) { s.register_atomic(def); });
    }
    template <class R>
    void write(const R& r) {
        REQUIRE(store()->append(static_cast<std::uint16_t>(R::type), rec::encode(r)));
    }
    void begin(const std::string& id) { write(rec::AtomicBegin{id, "transfer", {"a", "b"}, "{}", 0}); }
    AtomicLedger ledger;
    AtomicRef def;
};

}  // namespace

TEST_CASE_METHOD(Recovered, "crash before the decision: every participant aborts, prepared or not",
                 "[atomic][recovery]") {
    begin("t1");
    write(rec::AtomicVote{"t1", 0, true, "", 0});  // a prepared; b never answered
    restart();
    const auto info = finish_atomic("t1");
    REQUIRE(info);
    CHECK(info->state == State::aborted);
    CHECK(info->reason == "no decision before the restart (presumed abort)");
    CHECK(ledger.count(Phase::commit) == 0);
    CHECK(ledger.count(Phase::prepare) == 0);
    CHECK(ledger.calls("a", Phase::abort).size() == 1);
    CHECK(ledger.calls("b", Phase::abort).size() == 1);
}

TEST_CASE_METHOD(Recovered, "crash right after a commit decision: every participant commits", "[atomic][recovery]") {
    begin("t2");
    write(rec::AtomicVote{"t2", 0, true, "", 0});
    write(rec::AtomicVote{"t2", 1, true, "", 0});
    write(rec::AtomicDecision{"t2", true, "", 0});
    restart();
    const auto info = finish_atomic("t2");
    REQUIRE(info);
    CHECK(info->state == State::committed);
    CHECK(ledger.calls("a", Phase::commit).size() == 1);
    CHECK(ledger.calls("b", Phase::commit).size() == 1);
    CHECK(ledger.calls("b", Phase::commit)[0].key == "t2/b/commit");
    CHECK(ledger.count(Phase::abort) == 0);
}

TEST_CASE_METHOD(Recovered, "crash between commits: only the remaining participant commits", "[atomic][recovery]") {
    begin("t3");
    write(rec::AtomicDecision{"t3", true, "", 0});
    write(rec::AtomicAck{"t3", 0, 1, 0});
    restart();
    const auto info = finish_atomic("t3");
    REQUIRE(info);
    CHECK(info->state == State::committed);
    CHECK(ledger.calls("a", Phase::commit).empty());
    CHECK(ledger.calls("b", Phase::commit).size() == 1);
}

TEST_CASE_METHOD(Recovered, "crash after an abort decision: the abort is finished", "[atomic][recovery]") {
    begin("t4");
    write(rec::AtomicDecision{"t4", false, "participant 'b' voted no: closed", 0});
    write(rec::AtomicAck{"t4", 1, 1, 0});
    restart();
    const auto info = finish_atomic("t4");
    REQUIRE(info);
    CHECK(info->state == State::aborted);
    CHECK(info->reason == "participant 'b' voted no: closed");
    CHECK(ledger.calls("a", Phase::abort).size() == 1);
    CHECK(ledger.calls("b", Phase::abort).empty());
    CHECK(ledger.count(Phase::commit) == 0);
}

TEST_CASE("a stalled commit survives a restart on the WAL and finishes once the participant recovers",
          "[atomic][recovery]") {
    Recovered f(StoreKind::wal);
    f.ledger.fail_commits("b", 1000);
    const auto stalled = f.run_atomic(f.def, {}, "t5");
    CHECK(stalled.state == State::commit_stalled);
    f.restart();
    CHECK(f.scheduler().transaction("t5")->state == State::commit_stalled);  // still, after the restart
    f.ledger.fail_commits("b", 0);
    f.advance(1min);  // the next retry, at most the capped backoff away
    const auto info = f.scheduler().transaction("t5");
    REQUIRE(info);
    CHECK(info->state == State::committed);
    CHECK(f.ledger.calls("a", Phase::commit).size() == 1);  // acked before the restart: not sent again
    CHECK(f.scheduler().transactions().size() == 1);
}

TEST_CASE("a transaction is listed after a restart the same as before", "[atomic][recovery]") {
    Recovered f(StoreKind::wal);
    const auto done = f.run_atomic(f.def, {{"amount", 5}}, "t6");
    CHECK(done.state == State::committed);
    f.restart();
    const auto info = f.scheduler().transaction("t6");
    REQUIRE(info);
    CHECK(info->state == State::committed);
    CHECK(info->data == nlohmann::json{{"amount", 5}});
    CHECK(info->participants[1].state == ParticipantState::committed);
    CHECK(f.ledger.count(Phase::commit) == 2);
}

}  // namespace atomic_recovery_test
