// atomic_bench: what the atomic transaction coordinator costs. One
// `name value` line per figure (names are contracts read by RESULTS.md):
//
//   atomic_txn_overhead_us  one transaction of 3 in-memory participants
//                           (empty prepare/commit/abort), store in memory:
//                           begin, 3 prepares, 3 votes, the decision, 3
//                           commits, 3 acks, the hand-offs to the workers and
//                           the wake-up of the waiting thread. 10,000
//                           transactions started then waited for, per
//                           transaction; median of 5 rounds. Target <= 10.
//   atomic_wal_txn_per_s_1_thread / _8_threads  the same transactions on a
//                           WalStore (fsync per flush, group commit), each
//                           thread starting one and waiting for it in a loop
//                           for 2 s.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "txflow/scheduler.hpp"
#include "txflow/store/wal_store.hpp"
#include "txflow/testing/temp_dir.hpp"

namespace {

using txflow::atomic::Context;
using txflow::atomic::Vote;

txflow::AtomicRef three_participants() {
    txflow::Atomic a("bench");
    for (const char* name : {"a", "b", "c"})
        a = std::move(a)
                .participant(name)
                .prepare([](Context&) { return Vote::commit(); })
                .commit([](Context&) {})
                .abort([](Context&) {});
    return std::move(a).build();
}

txflow::SchedulerOptions options() {
    return txflow::SchedulerOptions{}.workers(2).logger(std::make_shared<spdlog::logger>("bench"));
}

double round_us_per_txn(int count) {
    txflow::Scheduler sched(options());
    const auto def = three_participants();
    sched.start();
    std::vector<std::string> ids;
    ids.reserve(static_cast<std::size_t>(count));
    const auto begin = std::chrono::steady_clock::now();
    for (int i = 0; i < count; ++i) ids.push_back(sched.start_atomic(def));
    for (const auto& id : ids) {
        auto info = sched.wait_transaction(id, std::chrono::minutes(1));
        if (!info || info->state != txflow::atomic::State::committed) std::abort();
    }
    const auto elapsed = std::chrono::steady_clock::now() - begin;
    return std::chrono::duration<double, std::micro>(elapsed).count() / count;
}

double wal_txn_per_s(int threads) {
    const txflow::testing::TempDir dir("atomic-bench");
    auto store = txflow::store::WalStore::open({.dir = dir.path()});
    if (!store) std::abort();
    txflow::Scheduler sched(options().workers(4).store(std::move(*store)));
    const auto def = three_participants();
    sched.start();
    std::atomic<bool> stop{false};
    std::atomic<long> done{0};
    std::vector<std::thread> clients;
    const auto begin = std::chrono::steady_clock::now();
    for (int t = 0; t < threads; ++t) {
        clients.emplace_back([&] {
            while (!stop) {
                auto info = sched.wait_transaction(sched.start_atomic(def), std::chrono::minutes(1));
                if (!info || info->state != txflow::atomic::State::committed) std::abort();
                ++done;
            }
        });
    }
    std::this_thread::sleep_for(std::chrono::seconds(2));  // the measuring window, not a synchronisation
    stop = true;
    for (auto& c : clients) c.join();
    const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    return static_cast<double>(done.load()) / elapsed;
}

}  // namespace

int main() {
    std::vector<double> rounds;
    for (int r = 0; r < 5; ++r) rounds.push_back(round_us_per_txn(10'000));
    std::sort(rounds.begin(), rounds.end());
    std::printf("atomic_txn_overhead_us %.2f\n", rounds[rounds.size() / 2]);
    std::printf("atomic_wal_txn_per_s_1_thread %.0f\n", wal_txn_per_s(1));
    std::printf("atomic_wal_txn_per_s_8_threads %.0f\n", wal_txn_per_s(8));
    return 0;
}
