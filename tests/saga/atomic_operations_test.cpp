// Running atomic transactions in production: their metrics, a commit_stalled
// participant that stays stalled (and retried) across a restart, and the
// retention that forgets finished transactions.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <string>

#include "saga/atomic_test_kit.hpp"
#include "support/test_support.hpp"
#include "txflow/observe/metrics.hpp"
#include "txflow/store/state_dir.hpp"
#include "txflow/store/wal_store.hpp"
#include "txflow/testing/scheduler_fixture.hpp"

namespace atomic_operations_test {

using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using txflow::Atomic;
using txflow::AtomicRef;
using txflow::EventKind;
using txflow::SchedulerOptions;
using txflow::atomic::Context;
using txflow::atomic::ParticipantState;
using txflow::atomic::Phase;
using txflow::atomic::State;
using txflow::atomic::Vote;
using txflow::observe::Registry;
using txflow::test::AtomicLedger;
using txflow::test::with_participant;
using txflow::testing::FixtureOptions;
using txflow::testing::SchedulerFixture;
using txflow::testing::StoreKind;

namespace {

struct Atomics : SchedulerFixture {
    explicit Atomics(StoreKind kind = StoreKind::memory, SchedulerOptions options = SchedulerOptions{}.workers(2))
        : SchedulerFixture(FixtureOptions{.store = kind, .scheduler = std::move(options.metrics(registry))}) {
        yes = with_participant(with_participant(Atomic("transfer").stall_after(3), "a", ledger), "b", ledger).build();
        no = with_participant(with_participant(Atomic("refused"), "a", ledger), "b", ledger, [](Context&) {
                 return Vote::refuse("closed");
             }).build();
        setup([this](txflow::Scheduler& s) {
            s.register_atomic(yes);
            s.register_atomic(no);
        });
    }
    bool exposes(const std::string& line) const { return registry->expose().find(line + "\n") != std::string::npos; }

    inline static std::shared_ptr<Registry> registry;  // set before the base is built (see make())
    AtomicLedger ledger;
    AtomicRef yes;
    AtomicRef no;
};

// A fresh registry per test, in place before the fixture's scheduler is built.
template <class... Args>
std::unique_ptr<Atomics> make(Args&&... args) {
    Atomics::registry = std::make_shared<Registry>();
    return std::make_unique<Atomics>(std::forward<Args>(args)...);
}

// promtool's verdict on the exposition; empty when promtool is not installed.
std::string promtool_verdict(const std::string& text) {
    if (std::system("command -v promtool >/dev/null 2>&1") != 0) return {};
    const txflow::test::TempDir dir{"atomic-promtool"};
    const auto in = dir.path() / "scrape.txt";
    const auto out = dir.path() / "promtool.out";
    std::ofstream(in) << text;
    const int rc = std::system(("promtool check metrics <" + in.string() + " >" + out.string() + " 2>&1").c_str());
    std::ifstream read(out);
    std::string said((std::istreambuf_iterator<char>(read)), std::istreambuf_iterator<char>());
    return rc == 0 ? "ok" : "failed: " + said;
}

}  // namespace

TEST_CASE("atomic metrics: outcomes, participant retries and the in-flight gauge by state", "[atomic][metrics]") {
    auto f = make();
    CHECK(f->exposes(R"(txflow_atomic_transactions_total{outcome="committed"} 0)"));
    CHECK(f->run_atomic(f->yes, {}, "t-yes").state == State::committed);
    CHECK(f->run_atomic(f->no, {}, "t-no").state == State::aborted);
    CHECK(f->exposes(R"(txflow_atomic_transactions_total{outcome="committed"} 1)"));
    CHECK(f->exposes(R"(txflow_atomic_transactions_total{outcome="aborted"} 1)"));
    CHECK(f->exposes(R"(txflow_atomic_transactions{state="commit_stalled"} 0)"));
    // Atomic transitions are not saga transitions.
    CHECK_THAT(f->registry->expose(), !Contains(R"(txflow_saga_transitions_total{state="committed"})"));

    f->ledger.fail_commits("b", 1000);
    CHECK(f->run_atomic(f->yes, {}, "t-stalled").state == State::commit_stalled);
    CHECK(f->exposes(R"(txflow_atomic_transactions{state="commit_stalled"} 1)"));
    CHECK(f->exposes(R"(txflow_atomic_transactions{state="committing"} 0)"));
    CHECK(f->exposes("txflow_atomic_participant_retries_total 3"));
    f->advance(2min);
    const auto retried = f->ledger.calls("b", Phase::commit).size();
    CHECK(retried > 4);
    // Every failed commit of b (all of them so far) is a retry; the last may still be in flight.
    const auto text = f->registry->expose();
    const std::string name = "\ntxflow_atomic_participant_retries_total ";
    const auto at = text.find(name);
    REQUIRE(at != std::string::npos);
    const auto counted = std::stoul(text.substr(at + name.size()));
    CHECK(counted + 1 >= retried);
    CHECK(counted <= retried);
    f->ledger.fail_commits("b", 0);
    f->advance(1min);
    CHECK(f->exposes(R"(txflow_atomic_transactions_total{outcome="committed"} 2)"));
    CHECK(f->exposes(R"(txflow_atomic_transactions{state="commit_stalled"} 0)"));

    const auto verdict = promtool_verdict(f->registry->expose());
    if (verdict.empty()) WARN("promtool not installed: the exposition was not checked by it");
    else CHECK(verdict == "ok");
}

TEST_CASE("a commit_stalled participant is still stalled after a restart on the WAL, alerts again and is retried",
          "[atomic][recovery]") {
    auto f = make(StoreKind::wal);
    f->ledger.fail_commits("b", 1000);
    const auto stalled = f->run_atomic(f->yes, {}, "t-stall");
    REQUIRE(stalled.state == State::commit_stalled);
    CHECK(f->events(EventKind::alert, "t-stall").size() == 1);

    f->restart();
    const auto info = f->scheduler().transaction("t-stall");
    REQUIRE(info);
    CHECK(info->state == State::commit_stalled);
    CHECK(info->participants[0].state == ParticipantState::committed);
    CHECK(info->participants[1].state == ParticipantState::commit_stalled);
    CHECK(info->participants[1].attempts >= 3);
    CHECK_THAT(info->participants[1].last_error, Contains("commit refused"));
    CHECK(f->scheduler().transactions(State::commit_stalled).size() == 1);
    // Raised again by the new process (the operator may have missed the first).
    const auto alerts = f->events(EventKind::alert, "t-stall");
    REQUIRE(!alerts.empty());
    CHECK(alerts.back().detail == "commit_stalled: participant b");

    const auto before = f->ledger.calls("b", Phase::commit).size();
    f->advance(2min);
    CHECK(f->ledger.calls("b", Phase::commit).size() > before);  // still retried
    CHECK(f->scheduler().transaction("t-stall")->state == State::commit_stalled);
    f->ledger.fail_commits("b", 0);
    f->advance(1min);  // the next retry, at most the capped backoff away
    const auto done = f->scheduler().transaction("t-stall");
    REQUIRE(done);
    CHECK(done->state == State::committed);
    CHECK(f->ledger.calls("a", Phase::commit).size() == 1);
}

TEST_CASE("a state directory shows a stalled participant's transaction as commit_stalled with its error",
          "[atomic][state_dir]") {
    const txflow::test::TempDir dir{"atomic-stalled-dir"};
    AtomicLedger ledger;
    ledger.fail_commits("b", 1000);
    auto def = with_participant(with_participant(Atomic("transfer").stall_after(1), "a", ledger), "b", ledger).build();
    {
        auto wal = txflow::store::WalStore::open({.dir = dir.path()});
        REQUIRE(wal);
        txflow::Scheduler sched(
            txflow::SchedulerOptions{}.workers(2).logger(txflow::test::quiet_logger()).store(std::move(*wal)));
        sched.start();
        CHECK(sched.wait_transaction(sched.start_atomic(def, {}, "t-s"), 10s)->state == State::commit_stalled);
        sched.stop(5s);
    }
    const auto view = txflow::store::read_state_dir(dir.path());
    REQUIRE(view);
    REQUIRE(view->transactions.size() == 1);
    CHECK(view->transactions[0].state == "commit_stalled");
    CHECK_THAT(view->transactions[0].reason, Contains("participant 'b': commit refused"));
}

TEST_CASE("finished transactions are forgotten after the retention; in-flight ones are kept", "[atomic][retention]") {
    auto f = make(StoreKind::wal, SchedulerOptions{}.workers(2).atomic_retention(1h));
    CHECK(f->run_atomic(f->yes, {}, "t-yes").state == State::committed);
    CHECK(f->run_atomic(f->no, {}, "t-no").state == State::aborted);
    f->ledger.fail_commits("b", 1000);
    CHECK(f->run_atomic(f->yes, {}, "t-stalled").state == State::commit_stalled);
    f->advance(30min);
    CHECK(f->scheduler().transactions().size() == 3);  // not yet
    f->advance(40min);
    CHECK(!f->scheduler().transaction("t-yes"));
    CHECK(!f->scheduler().transaction("t-no"));
    CHECK(f->scheduler().transaction("t-stalled"));  // never while in flight
    CHECK(f->scheduler().transactions().size() == 1);
    CHECK(f->scheduler().purge_transactions() == 0);  // the periodic purge left nothing to do

    f->restart();  // the removals were recorded: they stay forgotten
    CHECK(!f->scheduler().transaction("t-yes"));
    CHECK(f->scheduler().transactions().size() == 1);
    // The id may be used again: a new transaction, run again.
    f->ledger.fail_commits("b", 0);
    const auto commits = f->ledger.count(Phase::commit);
    CHECK(f->run_atomic(f->yes, {}, "t-yes").state == State::committed);
    CHECK(f->ledger.count(Phase::commit) >= commits + 2);
}

}  // namespace atomic_operations_test
