// The Store contract (include/txflow/store/store.hpp), written once and run
// against every store: MemoryStore, WalStore and PgStore (the last one only
// with a PostgreSQL server: TXFLOW_PG_URL, see store/pg_test_util.hpp).

#include <catch2/catch.hpp>

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "store/pg_test_util.hpp"
#include "store/wal_test_util.hpp"
#include "txflow/store/memory_store.hpp"
#include "txflow/store/pg_store.hpp"
#include "txflow/store/wal_store.hpp"

namespace store_contract_test {

namespace {

using txflow::store::MemoryStore;
using txflow::store::Record;
using txflow::store::Store;
using txflow::store::StoreError;
using txflow::store::WalOptions;
using txflow::store::WalStore;

// A factory per store: open() gives a store; reopen() closes it and opens the
// same data again (stores without persistence hand the same object back).
struct MemoryFactory {
    static constexpr bool persistent = false;
    std::unique_ptr<Store> open() { return std::make_unique<MemoryStore>(); }
    std::unique_ptr<Store> reopen(std::unique_ptr<Store> store) { return store; }
};

struct WalFactory {
    static constexpr bool persistent = true;
    txflow::test::TempDir dir{"contract"};
    WalOptions options() const {
        WalOptions o;
        o.dir = dir.path();
        o.segment_bytes = 512;  // several segments even in small tests
        return o;
    }
    std::unique_ptr<Store> open() { return txflow::test::open_wal(options()); }
    std::unique_ptr<Store> reopen(std::unique_ptr<Store> store) {
        store.reset();
        return open();
    }
};

// A schema of its own per test case; open() gives null without a server
// (the test case then returns: skipped), and fails under CI.
struct PgFactory {
    static constexpr bool persistent = true;
    std::optional<std::string> url = txflow::test::pg_url();
    std::optional<txflow::test::PgSchema> schema;
    std::unique_ptr<Store> open() {
        if (!url) return nullptr;
        if (!schema) schema.emplace(*url, "contract");
        auto store = txflow::store::PgStore::open(schema->options());
        INFO((store ? "" : store.error().message));
        REQUIRE(store);
        return std::move(*store);
    }
    std::unique_ptr<Store> reopen(std::unique_ptr<Store> store) {
        store.reset();
        return open();
    }
};

std::vector<Record> read_all(Store& store, std::uint64_t after = 0) {
    std::vector<Record> out;
    auto r = store.read(after, [&](const Record& rec) {
        out.push_back(rec);
        return true;
    });
    REQUIRE(r);
    return out;
}

std::vector<std::uint64_t> seqs_of(const std::vector<Record>& records) {
    std::vector<std::uint64_t> out;
    for (const auto& r : records) out.push_back(r.seq);
    return out;
}

std::uint64_t submit_ok(Store& store, std::uint16_t type, std::string_view payload) {
    auto seq = store.submit(type, payload);
    REQUIRE(seq);
    return *seq;
}

}  // namespace

TEMPLATE_TEST_CASE("Store contract: an empty store", "[store][contract]", MemoryFactory, WalFactory, PgFactory) {
    TestType factory;
    auto store = factory.open();
    if (!store) return;  // no PostgreSQL server (PgFactory)
    CHECK(store->last_seq() == 0);
    CHECK(store->bytes_since_snapshot() == 0);
    CHECK(read_all(*store).empty());
    auto snapshot = store->load_snapshot();
    REQUIRE(snapshot);
    CHECK_FALSE(snapshot->has_value());
    CHECK(store->sync(0));
}

TEMPLATE_TEST_CASE("Store contract: seqs are 1, 2, 3 ... in submission order", "[store][contract]", MemoryFactory,
                   WalFactory, PgFactory) {
    TestType factory;
    auto store = factory.open();
    if (!store) return;  // no PostgreSQL server (PgFactory)
    const std::string binary("a\0b\xff", 4);
    CHECK(submit_ok(*store, 1, "one") == 1);
    CHECK(submit_ok(*store, 2, "") == 2);
    CHECK(submit_ok(*store, 65535, binary) == 3);
    auto appended = store->append(7, std::string(300, 'x'));
    REQUIRE(appended);
    CHECK(*appended == 4);
    CHECK(store->last_seq() == 4);
    CHECK(store->bytes_since_snapshot() == 3 + 0 + 4 + 300);

    const auto all = read_all(*store);
    REQUIRE(seqs_of(all) == std::vector<std::uint64_t>{1, 2, 3, 4});
    CHECK(all[0].type == 1);
    CHECK(all[0].payload == "one");
    CHECK(all[1].payload.empty());
    CHECK(all[2].type == 65535);
    CHECK(all[2].payload == binary);
    CHECK(all[3].payload == std::string(300, 'x'));
}

TEMPLATE_TEST_CASE("Store contract: read(after) yields what follows, and stops when asked", "[store][contract]",
                   MemoryFactory, WalFactory, PgFactory) {
    TestType factory;
    auto store = factory.open();
    if (!store) return;  // no PostgreSQL server (PgFactory)
    for (int i = 1; i <= 20; ++i) submit_ok(*store, 3, "record " + std::to_string(i));

    CHECK(seqs_of(read_all(*store, 17)) == std::vector<std::uint64_t>{18, 19, 20});
    CHECK(read_all(*store, 20).empty());
    CHECK(read_all(*store, 1000).empty());

    std::vector<std::uint64_t> seen;
    REQUIRE(store->read(5, [&](const Record& r) {
        seen.push_back(r.seq);
        return seen.size() < 3;
    }));
    CHECK(seen == std::vector<std::uint64_t>{6, 7, 8});
}

TEMPLATE_TEST_CASE("Store contract: sync up to the last record, not beyond", "[store][contract]", MemoryFactory,
                   WalFactory, PgFactory) {
    TestType factory;
    auto store = factory.open();
    if (!store) return;  // no PostgreSQL server (PgFactory)
    const auto seq = submit_ok(*store, 1, "a");
    CHECK(store->sync(seq));
    auto beyond = store->sync(seq + 1);
    REQUIRE_FALSE(beyond);
    CHECK(beyond.error().code == StoreError::Code::invalid);
    CHECK_THAT(beyond.error().message, Catch::Contains("beyond"));
}

TEMPLATE_TEST_CASE("Store contract: a snapshot, then what follows it", "[store][contract]", MemoryFactory, WalFactory,
                   PgFactory) {
    TestType factory;
    auto store = factory.open();
    if (!store) return;  // no PostgreSQL server (PgFactory)
    for (int i = 1; i <= 10; ++i) submit_ok(*store, 1, std::string(static_cast<std::size_t>(i), 'p'));
    REQUIRE(store->write_snapshot(6, "state at 6"));

    auto snapshot = store->load_snapshot();
    REQUIRE(snapshot);
    REQUIRE(snapshot->has_value());
    CHECK((*snapshot)->seq == 6);
    CHECK((*snapshot)->state == "state at 6");
    CHECK(seqs_of(read_all(*store, 6)) == std::vector<std::uint64_t>{7, 8, 9, 10});
    CHECK(store->bytes_since_snapshot() == 7 + 8 + 9 + 10);
    CHECK(store->last_seq() == 10);

    // Newer records keep coming after it.
    CHECK(submit_ok(*store, 1, "eleven") == 11);
    CHECK(seqs_of(read_all(*store, 6)) == std::vector<std::uint64_t>{7, 8, 9, 10, 11});
    CHECK(store->bytes_since_snapshot() == 7 + 8 + 9 + 10 + 6);
}

TEMPLATE_TEST_CASE("Store contract: a read from before a snapshot yields everything or fails, never a gap",
                   "[store][contract]", MemoryFactory, WalFactory, PgFactory) {
    TestType factory;
    auto store = factory.open();
    if (!store) return;  // no PostgreSQL server (PgFactory)
    for (int i = 1; i <= 10; ++i) submit_ok(*store, 1, "r");
    REQUIRE(store->write_snapshot(6, "state at 6"));
    std::vector<std::uint64_t> seen;
    auto r = store->read(2, [&](const Record& rec) {
        seen.push_back(rec.seq);
        return true;
    });
    if (r) {
        CHECK(seen == std::vector<std::uint64_t>{3, 4, 5, 6, 7, 8, 9, 10});  // the covered records were kept
    } else {
        CHECK(r.error().code == StoreError::Code::invalid);
        CHECK(seen.empty());
    }
}

TEMPLATE_TEST_CASE("Store contract: a snapshot covering everything", "[store][contract]", MemoryFactory, WalFactory,
                   PgFactory) {
    TestType factory;
    auto store = factory.open();
    if (!store) return;  // no PostgreSQL server (PgFactory)
    for (int i = 1; i <= 50; ++i) submit_ok(*store, 2, std::string(40, 'q'));
    REQUIRE(store->write_snapshot(50, "all of it"));
    CHECK(store->bytes_since_snapshot() == 0);
    CHECK(read_all(*store, 50).empty());
    CHECK(store->last_seq() == 50);

    // The same seq again replaces it; seqs go on after it.
    REQUIRE(store->write_snapshot(50, "all of it, again"));
    CHECK(submit_ok(*store, 2, "next") == 51);
    CHECK(seqs_of(read_all(*store, 50)) == std::vector<std::uint64_t>{51});
    auto snapshot = store->load_snapshot();
    REQUIRE(snapshot);
    REQUIRE(snapshot->has_value());
    CHECK((*snapshot)->state == "all of it, again");
}

TEMPLATE_TEST_CASE("Store contract: snapshots beyond the log or older than the last are refused", "[store][contract]",
                   MemoryFactory, WalFactory, PgFactory) {
    TestType factory;
    auto store = factory.open();
    if (!store) return;  // no PostgreSQL server (PgFactory)
    for (int i = 1; i <= 5; ++i) submit_ok(*store, 1, "x");
    auto beyond = store->write_snapshot(6, "s");
    REQUIRE_FALSE(beyond);
    CHECK(beyond.error().code == StoreError::Code::invalid);

    REQUIRE(store->write_snapshot(4, "s4"));
    auto older = store->write_snapshot(3, "s3");
    REQUIRE_FALSE(older);
    CHECK(older.error().code == StoreError::Code::invalid);
    auto snapshot = store->load_snapshot();
    REQUIRE(snapshot);
    CHECK((*snapshot)->seq == 4);
}

TEMPLATE_TEST_CASE("Store contract: a visitor may submit while reading", "[store][contract]", MemoryFactory, WalFactory,
                   PgFactory) {
    TestType factory;
    auto store = factory.open();
    if (!store) return;  // no PostgreSQL server (PgFactory)
    for (int i = 1; i <= 5; ++i) submit_ok(*store, 1, "x");
    std::vector<std::uint64_t> seen;
    REQUIRE(store->read(0, [&](const Record& r) {
        seen.push_back(r.seq);
        auto seq = store->append(9, "written during the read");
        REQUIRE(seq);
        return true;
    }));
    CHECK(seen == std::vector<std::uint64_t>{1, 2, 3, 4, 5});  // what existed when the read began
    CHECK(store->last_seq() == 10);
    CHECK(seqs_of(read_all(*store, 5)) == std::vector<std::uint64_t>{6, 7, 8, 9, 10});
}

TEMPLATE_TEST_CASE("Store contract: concurrent submitters get distinct, dense seqs", "[store][contract]", MemoryFactory,
                   WalFactory, PgFactory) {
    TestType factory;
    auto store = factory.open();
    if (!store) return;  // no PostgreSQL server (PgFactory)
    constexpr int kThreads = 4;
    constexpr int kEach = 100;
    std::mutex mutex;
    std::set<std::uint64_t> seqs;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                auto seq = store->append(static_cast<std::uint16_t>(t), std::to_string(t) + ":" + std::to_string(i));
                if (!seq) continue;
                std::lock_guard lock(mutex);
                seqs.insert(*seq);
            }
        });
    }
    for (auto& th : threads) th.join();
    REQUIRE(seqs.size() == kThreads * kEach);
    CHECK(*seqs.begin() == 1);
    CHECK(*seqs.rbegin() == kThreads * kEach);
    CHECK(read_all(*store).size() == kThreads * kEach);
}

TEMPLATE_TEST_CASE("Store contract: everything survives a reopen", "[store][contract]", MemoryFactory, WalFactory,
                   PgFactory) {
    TestType factory;
    auto store = factory.open();
    if (!store) return;  // no PostgreSQL server (PgFactory)
    for (int i = 1; i <= 30; ++i) submit_ok(*store, static_cast<std::uint16_t>(i), "payload " + std::to_string(i));
    REQUIRE(store->sync(30));
    REQUIRE(store->write_snapshot(20, "state at 20"));
    for (int i = 31; i <= 35; ++i) submit_ok(*store, 1, "after the snapshot");
    REQUIRE(store->sync(35));
    const auto bytes_before = store->bytes_since_snapshot();

    store = factory.reopen(std::move(store));
    CHECK(store->last_seq() == 35);
    CHECK(store->bytes_since_snapshot() == bytes_before);
    auto snapshot = store->load_snapshot();
    REQUIRE(snapshot);
    REQUIRE(snapshot->has_value());
    CHECK((*snapshot)->seq == 20);
    CHECK((*snapshot)->state == "state at 20");
    const auto after = read_all(*store, 20);
    REQUIRE(after.size() == 15);
    CHECK(after.front().seq == 21);
    CHECK(after.front().payload == "payload 21");
    CHECK(after.front().type == 21);
    CHECK(after.back().seq == 35);
    CHECK(submit_ok(*store, 1, "more") == 36);
}

}  // namespace store_contract_test
