// The crash test of issue #22. Each iteration forks a child that runs atomic
// transactions (three participants; random no votes, commits that fail and
// are retried) on a WalStore, SIGKILLs it at a random instant (10-300 ms
// after its first transaction began), recovers in this process on the same
// directory, lets every transaction finish, and checks that:
//   (a) every transaction ends committed or aborted;
//   (b) all or nothing: a committed transaction's participants all committed
//       and none aborted; an aborted one's all aborted and none committed;
//   (c) no commit without a durable commit decision: a commit any participant
//       made (in the child or after) belongs to a transaction the log says
//       committed;
//   (d) nothing was prepared for a transaction the log does not know.
// Participants write their effects to a ledger file (write(2) with O_APPEND:
// it survives the kill of the process). TXFLOW_CRASH_ITERATIONS=n (default
// 20) and TXFLOW_CRASH_SEED=s as for crash_test.cpp.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "support/test_support.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/store/wal_store.hpp"

using namespace std::chrono_literals;
using txflow::Atomic;
using txflow::AtomicRef;
using txflow::Scheduler;
using txflow::SchedulerOptions;
using txflow::atomic::Context;
using txflow::atomic::State;
using txflow::atomic::Vote;
namespace fs = std::filesystem;

namespace {

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
    const char* v = std::getenv(name);
    return v == nullptr || *v == '\0' ? fallback : std::strtoull(v, nullptr, 10);
}

#if defined(__SANITIZE_THREAD__)
constexpr int kOwnThreadsAllowed = 2;  // TSan's background thread
#else
constexpr int kOwnThreadsAllowed = 1;
#endif

int threads_now() {
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
    return -1;
}

// One line a write: a whole line or none lands, even under SIGKILL.
class Ledger {
public:
    explicit Ledger(const fs::path& path) : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644)) {}
    ~Ledger() {
        if (fd_ >= 0) ::close(fd_);
    }
    Ledger(const Ledger&) = delete;
    Ledger& operator=(const Ledger&) = delete;
    void add(std::string_view what, const Context& ctx) const {
        const std::string line =
            std::string(what) + ' ' + std::string(ctx.txn_id()) + ' ' + std::string(ctx.participant()) + '\n';
        (void)!::write(fd_, line.data(), line.size());
    }

private:
    int fd_;
};

// flaky: the child's participants vote no and fail commits now and then; recovery's never do.
AtomicRef definition(const Ledger& ledger, bool flaky) {
    auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
    auto mutex = std::make_shared<std::mutex>();
    auto chance = [rng, mutex, flaky](unsigned percent) {
        const std::lock_guard lock(*mutex);
        return flaky && (*rng)() % 100 < percent;
    };
    Atomic a = Atomic("move").prepare_timeout(200ms).phase_retry(txflow::retry::fixed(2ms));
    for (const std::string name : {"a", "b", "c"}) {
        a = std::move(a)
                .participant(name)
                .prepare([&ledger, chance](Context& ctx) {
                    ledger.add("prepare", ctx);
                    return chance(10) ? Vote::refuse("random no") : Vote::commit();
                })
                .commit([&ledger, chance](Context& ctx) {
                    if (chance(30)) throw std::runtime_error("random commit failure");
                    ledger.add("commit", ctx);
                })
                .abort([&ledger](Context& ctx) { ledger.add("abort", ctx); });
    }
    return std::move(a).build();
}

SchedulerOptions options(const fs::path& wal) {
    auto store = txflow::store::WalStore::open({.dir = wal});
    if (!store) throw std::runtime_error(store.error().message);
    return SchedulerOptions{}.workers(4).logger(txflow::test::quiet_logger()).store(std::move(*store));
}

[[noreturn]] void run_child(const fs::path& root, std::uint64_t seed) {
    try {
        const Ledger ledger(root / "ledger");
        Scheduler sched(options(root / "wal"));
        auto def = definition(ledger, true);
        sched.start();
        std::mt19937_64 rng(seed);
        for (int i = 0;; ++i) {
            sched.start_atomic(def, {{"i", i}}, "t" + std::to_string(i));
            if (i == 0) std::ofstream(root / "began") << "1";
            std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2000));
        }
    } catch (const std::exception& e) {
        std::ofstream(root / "child_error") << e.what();
    }
    ::_exit(3);
}

std::map<std::string, std::map<std::string, std::set<std::string>>> read_ledger(const fs::path& path) {
    std::map<std::string, std::map<std::string, std::set<std::string>>> out;  // txn -> effect -> participants
    std::ifstream in(path);
    for (std::string what, txn, participant; in >> what >> txn >> participant;) out[txn][what].insert(participant);
    return out;
}

struct Totals {
    std::size_t transactions = 0;
    std::size_t undecided = 0;   // recovered without a decision (presumed abort)
    std::size_t unfinished = 0;  // recovered with a decision some participant had not acknowledged
    std::size_t stalled = 0;     // of those, recovered commit_stalled
};

void run_iteration(const fs::path& root, std::uint64_t seed, Totals& totals) {
    fs::create_directories(root);
    const auto kill_after = std::chrono::milliseconds(10 + seed % 291);
    INFO("seed " << seed << ", kill " << kill_after.count() << " ms in, files in " << root);
    REQUIRE(threads_now() <= kOwnThreadsAllowed);  // fork copies only this thread
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) run_child(root, seed);
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!fs::exists(root / "began") && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(kill_after);
    REQUIRE(::kill(child, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(fs::exists(root / "began"));

    std::map<std::string, State> final_state;
    {
        const Ledger ledger(root / "ledger");
        Scheduler sched(options(root / "wal"));
        sched.register_atomic(definition(ledger, false));
        for (const auto& t : sched.transactions()) {  // as the crash left them
            totals.undecided += t.state == State::preparing ? 1 : 0;
            totals.unfinished +=
                t.state == State::committing || t.state == State::aborting || t.state == State::commit_stalled ? 1 : 0;
            totals.stalled += t.state == State::commit_stalled ? 1 : 0;
        }
        sched.start();
        for (const auto& t : sched.transactions()) {
            auto info = sched.wait_transaction(t.id, 30s);
            // One the child left commit_stalled (a commit failed stall_after times in a row) is
            // still being committed, and wait_transaction returns at once for it: poll.
            const auto until = std::chrono::steady_clock::now() + 30s;
            while (info && info->state == State::commit_stalled && std::chrono::steady_clock::now() < until) {
                std::this_thread::sleep_for(2ms);
                info = sched.transaction(t.id);
            }
            REQUIRE(info);
            final_state[t.id] = info->state;
        }
        sched.stop(5s);
    }
    REQUIRE(!final_state.empty());
    totals.transactions += final_state.size();
    const auto effects = read_ledger(root / "ledger");
    for (const auto& [txn, state] : final_state) {
        INFO("transaction " << txn);
        REQUIRE((state == State::committed || state == State::aborted));  // (a)
        const auto& e = effects.count(txn) ? effects.at(txn) : std::map<std::string, std::set<std::string>>{};
        const auto commits = e.count("commit") ? e.at("commit").size() : 0;
        const auto aborts = e.count("abort") ? e.at("abort").size() : 0;
        if (state == State::committed) {  // (b), (c)
            CHECK(commits == 3);
            CHECK(aborts == 0);
        } else {
            CHECK(commits == 0);
            CHECK(aborts == 3);
        }
    }
    for (const auto& [txn, e] : effects) CHECK(final_state.count(txn) == 1);  // (d)
}

}  // namespace

TEST_CASE("atomic transactions: all or nothing across a SIGKILL at a random instant", "[crash][atomic]") {
    const auto iterations = env_or("TXFLOW_CRASH_ITERATIONS", 20);
    const auto base_seed = env_or("TXFLOW_CRASH_SEED", static_cast<std::uint64_t>(std::random_device{}()));
    std::printf("atomic crash test: TXFLOW_CRASH_SEED=%llu, %llu iterations\n",
                static_cast<unsigned long long>(base_seed), static_cast<unsigned long long>(iterations));
    const txflow::test::TempDir dir{"atomic-crash"};
    Totals totals;
    for (std::uint64_t i = 0; i < iterations; ++i)
        run_iteration(dir.path() / ("it-" + std::to_string(i)), base_seed + i, totals);
    std::printf(
        "atomic crash test: %zu transactions, %zu recovered undecided, %zu recovered mid-phase (%zu commit_stalled)\n",
        totals.transactions, totals.undecided, totals.unfinished, totals.stalled);
    // The kills landed inside the protocol, not only between transactions.
    if (iterations >= 10) CHECK(totals.undecided + totals.unfinished > 0);
}
