// PgStore beyond the contract suite (store_contract_test.cpp runs that): its
// name, group commit (one transaction per flush), one owner per schema, and a
// connection lost under it.

#include <catch2/catch.hpp>

#include <memory>
#include <mutex>
#include <vector>

#include "store/pg_test_util.hpp"
#include "txflow/store/pg_store.hpp"

namespace pg_store_test {

using txflow::store::FlushStats;
using txflow::store::PgStore;
using txflow::store::StoreError;
using txflow::test::PgSchema;
using txflow::test::RawConn;

namespace {

struct FlushLog : txflow::store::StoreObserver {
    std::mutex mutex;
    std::vector<FlushStats> flushes;
    void on_flush(const FlushStats& f) noexcept override {
        std::lock_guard lock(mutex);
        flushes.push_back(f);
    }
};

std::unique_ptr<PgStore> open_ok(const PgSchema& schema) {
    auto store = PgStore::open(schema.options());
    INFO((store ? "" : store.error().message));
    REQUIRE(store);
    return std::move(*store);
}

}  // namespace

TEST_CASE("pg store: named postgresql; records wait for sync, then go in one commit", "[pg][store]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "store");
    auto store = open_ok(schema);
    CHECK(store->name() == "postgresql");
    auto log = std::make_shared<FlushLog>();
    store->set_observer(log);

    RawConn raw(*url);
    for (int i = 1; i <= 5; ++i) REQUIRE(store->submit(1, "r" + std::to_string(i)));
    CHECK(raw.exec("SELECT count(*) FROM " + schema.table("txflow_records")) == "0");  // not written yet
    REQUIRE(store->sync(3));  // the whole pending batch goes, not only up to 3
    CHECK(raw.exec("SELECT count(*) FROM " + schema.table("txflow_records")) == "5");
    REQUIRE(log->flushes.size() == 1);
    CHECK(log->flushes[0].records == 5);
    CHECK(log->flushes[0].bytes == 10);
    CHECK(log->flushes[0].durable);
    REQUIRE(store->sync(5));  // already durable: no second flush
    CHECK(log->flushes.size() == 1);
}

TEST_CASE("pg store: one owner per schema; close hands it over", "[pg][store]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "owner");
    auto first = open_ok(schema);
    REQUIRE(first->append(1, "kept"));
    auto second = PgStore::open(schema.options());
    REQUIRE_FALSE(second);
    CHECK_THAT(second.error().message, Catch::Contains("in use by another PgStore"));

    REQUIRE(first->close());
    auto closed = first->submit(1, "after close");
    REQUIRE_FALSE(closed);
    CHECK(closed.error().code == StoreError::Code::closed);
    auto third = open_ok(schema);
    CHECK(third->last_seq() == 1);
}

TEST_CASE("pg store: a lost connection fails the flush, then every call, with the reason", "[pg][store]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "lost");
    auto store = open_ok(schema);
    REQUIRE(store->append(1, "before"));

    // The store's backend is the one holding its advisory lock (class 0x7479).
    RawConn raw(*url);
    const auto pid = raw.exec(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = 29817 AND "
        "objid = (hashtext('" +
        schema.name() + "')::bigint & 4294967295)::text::oid");
    REQUIRE_FALSE(pid.empty());
    REQUIRE(raw.exec("SELECT pg_terminate_backend(" + pid + ")") == "t");

    auto seq = store->submit(1, "after");
    REQUIRE(seq);
    auto synced = store->sync(*seq);
    REQUIRE_FALSE(synced);
    CHECK(synced.error().code == StoreError::Code::io);
    CHECK_THAT(synced.error().message, Catch::Contains("PostgreSQL: writing records 2..2"));
    auto later = store->append(1, "later");
    REQUIRE_FALSE(later);
    CHECK(later.error().code == StoreError::Code::closed);
    CHECK_THAT(later.error().message, Catch::Contains("an earlier write failed"));
}

}  // namespace pg_store_test
