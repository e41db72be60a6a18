// Many transactions at once on the real clock: four threads start them while
// participants vote no and fail commits at random. Every transaction ends
// committed or aborted, all or nothing. Run under ThreadSanitizer in CI.
#include <catch2/catch.hpp>

#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "saga/atomic_test_kit.hpp"
#include "support/test_support.hpp"
#include "txflow/scheduler.hpp"

namespace atomic_stress_test {

using namespace std::chrono_literals;
using txflow::Atomic;
using txflow::atomic::Context;
using txflow::atomic::Phase;
using txflow::atomic::State;
using txflow::atomic::Vote;
using txflow::test::AtomicLedger;

TEST_CASE("concurrent transactions with random votes and failing commits end all or nothing", "[atomic][stress]") {
    AtomicLedger ledger;
    std::mutex rng_mutex;
    std::mt19937_64 rng(42);
    auto chance = [&](unsigned percent) {
        const std::lock_guard lock(rng_mutex);
        return rng() % 100 < percent;
    };
    // Never commit_stalled here (wait_transaction returns at it): five failures in a row do happen.
    Atomic a = Atomic("stress").phase_retry(txflow::retry::fixed(1ms)).stall_after(1000);
    for (const std::string name : {"a", "b", "c"}) {
        a = std::move(a)
                .participant(name)
                .prepare([&](Context& ctx) {
                    ledger.record(ctx);
                    return chance(15) ? Vote::refuse("random") : Vote::commit();
                })
                .commit([&](Context& ctx) {
                    if (chance(20)) throw std::runtime_error("flaky");
                    ledger.record(ctx);
                })
                .abort([&](Context& ctx) { ledger.record(ctx); });
    }
    const auto def = std::move(a).build();
    txflow::Scheduler sched(txflow::SchedulerOptions{}.workers(4).logger(txflow::test::quiet_logger()));
    sched.start();
    constexpr int kThreads = 4;
    constexpr int kEach = 150;
    std::vector<std::thread> clients;
    std::vector<std::vector<std::string>> ids(kThreads);
    for (int t = 0; t < kThreads; ++t) {
        clients.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i)
                ids[static_cast<std::size_t>(t)].push_back(
                    sched.start_atomic(def, {}, "t" + std::to_string(t) + "-" + std::to_string(i)));
        });
    }
    for (auto& c : clients) c.join();
    std::size_t committed = 0;
    std::size_t aborted = 0;
    for (const auto& list : ids) {
        for (const auto& id : list) {
            const auto info = sched.wait_transaction(id, 30s);
            REQUIRE(info);
            REQUIRE((info->state == State::committed || info->state == State::aborted));
            (info->state == State::committed ? committed : aborted)++;
        }
    }
    sched.stop(5s);
    CHECK(committed + aborted == kThreads * kEach);
    CHECK(committed > 0);
    CHECK(aborted > 0);
    // All or nothing, per transaction, from what the participants saw.
    std::map<std::string, std::map<Phase, std::set<std::string>>> seen;
    for (const auto& c : ledger.calls()) {
        const auto txn = c.key.substr(0, c.key.find('/'));
        seen[txn][c.phase].insert(c.participant);
    }
    for (const auto& list : ids) {
        for (const auto& id : list) {
            const auto state = sched.transaction(id)->state;
            const auto& s = seen[id];
            const auto commits = s.count(Phase::commit) ? s.at(Phase::commit).size() : 0;
            const auto aborts = s.count(Phase::abort) ? s.at(Phase::abort).size() : 0;
            INFO(id);
            CHECK(commits == (state == State::committed ? 3u : 0u));
            CHECK(aborts == (state == State::aborted ? 3u : 0u));
        }
    }
}

}  // namespace atomic_stress_test
