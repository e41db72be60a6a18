// Sagas over the WAL: a steady load keeps the directory bounded (snapshots
// drop what they cover), and a new scheduler on the same directory sees the
// same sagas.
#include <catch2/catch.hpp>

#include <filesystem>

#include "support/test_support.hpp"
#include "txflow/scheduler.hpp"
#include "txflow/store/wal_store.hpp"

namespace saga_wal_test {

using namespace std::chrono_literals;
using txflow::Saga;
using txflow::Scheduler;
using txflow::SchedulerOptions;
using txflow::saga::State;
using txflow::saga::StepContext;
using txflow::test::quiet_logger;
using txflow::test::TempDir;
namespace fs = std::filesystem;

namespace {

// Runs while the scheduler's snapshots delete segments: a file listed but
// gone by the time its size is read counts as empty.
std::uintmax_t dir_bytes(const fs::path& dir) {
    std::uintmax_t total = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        const auto size = fs::file_size(e.path(), ec);
        if (!ec) total += size;
    }
    return total;
}

std::shared_ptr<txflow::store::WalStore> open_wal(const fs::path& dir) {
    auto wal = txflow::store::WalStore::open(
        {.dir = dir, .durability = txflow::store::Durability::none(), .segment_bytes = 16 << 10});
    REQUIRE(wal);
    return std::shared_ptr<txflow::store::WalStore>(std::move(*wal));
}

SchedulerOptions options(std::shared_ptr<txflow::store::Store> store) {
    return SchedulerOptions{}.workers(2).logger(quiet_logger()).store(std::move(store)).snapshot_every(32 << 10);
}

}  // namespace

TEST_CASE("a steady saga load keeps the WAL directory bounded; a restart sees the same sagas", "[saga][wal]") {
    TempDir dir{"saga-wal"};
    auto saga = Saga("steady")
                    .step(
                        "a", [](StepContext& ctx) { ctx.data()["a"] = std::string(64, 'x'); }, [](StepContext&) {})
                    .step("b",
                          [](StepContext& ctx) {
                              if (ctx.data()["i"].get<int>() % 5 == 0) throw std::runtime_error("every fifth fails");
                          })
                    .no_compensation()
                    .build();
    std::uintmax_t peak = 0;
    std::size_t records_bytes = 0;
    {
        auto wal = open_wal(dir.path());
        Scheduler sched(options(wal).saga_retention(0ms));
        sched.start();
        for (int i = 0; i < 3000; ++i) {
            auto h = sched.start_saga(saga, {{"i", i}}, "s" + std::to_string(i));
            if (i % 100 == 99) {
                h.wait(20s);
                sched.purge_sagas();
                peak = std::max(peak, dir_bytes(dir.path()));
            }
        }
        for (int i = 2900; i < 3000; ++i) {
            auto info = sched.wait_saga("s" + std::to_string(i), 20s);
            if (info) CHECK(txflow::saga::is_terminal(info->state));
        }
        records_bytes = wal->last_seq() * 100;  // at least ~100 bytes a record with its header
        sched.stop(5s);
    }
    INFO("peak directory size " << peak << " B for about " << records_bytes << " B of records");
    CHECK(peak < 512u << 10);
    CHECK(records_bytes > 4 * peak);  // most of what was written is gone

    // Keep the last sagas: a restart with a long retention sees them as they ended.
    {
        auto wal = open_wal(dir.path());
        Scheduler sched(options(wal));
        sched.start();
        auto kept = sched.start_saga(saga, {{"i", 7}}, "last");
        REQUIRE(kept.wait(20s)->state == State::succeeded);
        auto failed = sched.start_saga(saga, {{"i", 10}}, "last-failed");
        REQUIRE(failed.wait(20s)->state == State::compensated);
        sched.stop(5s);
    }
    auto wal = open_wal(dir.path());
    Scheduler again(options(wal));
    auto last = again.saga("last");
    REQUIRE(last);
    CHECK(last->state == State::succeeded);
    CHECK(last->data["a"] == std::string(64, 'x'));
    auto failed = again.saga("last-failed");
    REQUIRE(failed);
    CHECK(failed->state == State::compensated);
    CHECK(failed->error == "step 'b' failed: every fifth fails");
    CHECK(failed->steps[0].state == State::compensated);
}

}  // namespace saga_wal_test
