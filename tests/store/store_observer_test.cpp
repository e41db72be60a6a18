// What the Store interface offers beyond the contract, for a second backend
// and a metrics layer: the backend's name, a flush observer, close().

#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "store/wal_test_util.hpp"
#include "txflow/store/memory_store.hpp"
#include "txflow/store/wal_store.hpp"

namespace store_observer_test {

namespace {

using txflow::store::FlushStats;
using txflow::store::MemoryStore;
using txflow::store::StoreObserver;
using txflow::store::WalOptions;
using txflow::test::open_wal;
using txflow::test::TempDir;

struct CountingObserver final : StoreObserver {
    std::atomic<std::uint64_t> flushes{0};
    std::atomic<std::uint64_t> records{0};
    std::atomic<std::uint64_t> bytes{0};
    std::atomic<std::uint64_t> durable{0};
    std::atomic<bool> sane{true};
    void on_flush(const FlushStats& f) noexcept override {
        ++flushes;
        records += f.records;
        bytes += f.bytes;
        if (f.durable) ++durable;
        if (f.duration < f.sync_duration || (!f.durable && f.sync_duration.count() != 0)) sane = false;
    }
};

}  // namespace

TEST_CASE("stores name their backend; the defaults need no override", "[store]") {
    MemoryStore memory;
    CHECK(memory.name() == "memory");
    memory.set_observer(std::make_shared<CountingObserver>());  // ignored
    CHECK(memory.close());

    TempDir dir;
    auto wal = open_wal(WalOptions{.dir = dir.path()});
    CHECK(wal->name() == "wal");
    CHECK(wal->close());
    CHECK(wal->close());  // idempotent
    CHECK_FALSE(wal->submit(1, "x"));
}

TEST_CASE("a WAL observer sees every record flushed, in group-commit batches", "[store][wal]") {
    TempDir dir;
    auto wal = open_wal(WalOptions{.dir = dir.path()});
    auto observer = std::make_shared<CountingObserver>();
    wal->set_observer(observer);

    constexpr int kThreads = 4;
    constexpr int kEach = 50;
    std::atomic<bool> appended{true};  // Catch2's assertions are not for other threads
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t) {
        writers.emplace_back([&] {
            for (int i = 0; i < kEach; ++i)
                if (!wal->append(1, "payload")) appended = false;
        });
    }
    for (auto& w : writers) w.join();
    REQUIRE(appended);
    REQUIRE(wal->close());

    CHECK(observer->records == kThreads * kEach);
    CHECK(observer->durable >= 1);
    CHECK(observer->flushes <= observer->records);
    CHECK(observer->bytes >= observer->records * 7);  // each payload, plus framing
    CHECK(observer->sane);

    // Detached: no more calls.
    const auto before = observer->flushes.load();
    auto again = open_wal(WalOptions{.dir = dir.path()});
    again->set_observer(observer);
    again->set_observer(nullptr);
    REQUIRE(again->append(1, "more"));
    CHECK(observer->flushes == before);
}

}  // namespace store_observer_test
