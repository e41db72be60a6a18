// Connecting and migrating: clear errors for a wrong URL, a server that is
// not there and a bad schema name; migrations applied once, also by
// concurrent migrators; a schema from a newer txflow refused.

#include <catch2/catch.hpp>

#include <algorithm>

#include <mutex>
#include <thread>
#include <vector>

#include "store/pg_test_util.hpp"
#include "txflow/store/pg_queue.hpp"
#include "txflow/store/pg_schema.hpp"
#include "txflow/store/pg_store.hpp"

namespace pg_schema_test {

using txflow::store::PgOptions;
using txflow::store::PgQueue;
using txflow::store::PgStore;
using txflow::store::StoreError;
using txflow::test::PgSchema;
using txflow::test::RawConn;

TEST_CASE("pg: a malformed connection string is the caller's error", "[pg][schema]") {
    PgOptions o;
    o.url = "postgresql://[::1";
    auto status = txflow::store::pg_schema_status(o);
    REQUIRE_FALSE(status);
    CHECK(status.error().code == StoreError::Code::invalid);
    CHECK_THAT(status.error().message, Catch::Contains("bad connection string"));

    o.url = "";
    auto empty = PgStore::open(o);
    REQUIRE_FALSE(empty);
    CHECK_THAT(empty.error().message, Catch::Contains("no connection string"));
}

TEST_CASE("pg: a server that is not there fails at once, naming host and port", "[pg][schema]") {
    PgOptions o;
    o.url = "postgresql://postgres@127.0.0.1:1/postgres";  // nothing listens on port 1
    o.connect_timeout = std::chrono::seconds(2);
    auto store = PgStore::open(o);
    REQUIRE_FALSE(store);
    CHECK(store.error().code == StoreError::Code::io);
    CHECK_THAT(store.error().message, Catch::Contains("cannot connect to 127.0.0.1:1"));
    auto queue = PgQueue::open(o);
    REQUIRE_FALSE(queue);
    CHECK_THAT(queue.error().message, Catch::Contains("cannot connect"));
}

TEST_CASE("pg: a bad schema name is refused before connecting", "[pg][schema]") {
    for (const char* bad : {"", "Upper", "1digit", "semi;colon", "quote\"d", "a-b"}) {
        PgOptions o;
        o.url = "postgresql://postgres@127.0.0.1:1/postgres";
        o.schema = bad;
        auto r = txflow::store::pg_migrate(o);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == StoreError::Code::invalid);
        CHECK_THAT(r.error().message, Catch::Contains("bad schema name"));
    }
}

TEST_CASE("pg: migrate applies every migration once, then nothing", "[pg][schema]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "migrate");
    const auto latest = txflow::store::pg_schema_latest();
    REQUIRE(latest >= 2);

    auto before = txflow::store::pg_schema_status(schema.options());
    REQUIRE(before);
    CHECK_FALSE(before->schema_exists);
    CHECK(before->version == 0);
    // Every migration, 1 first and the latest last (a number may be skipped: migrations keep
    // the numbers they were given on parallel branches).
    REQUIRE(before->pending.size() >= 2);
    CHECK(before->pending.front() == 1);
    CHECK(before->pending.back() == latest);
    CHECK(std::is_sorted(before->pending.begin(), before->pending.end()));

    auto after = txflow::store::pg_migrate(schema.options());
    INFO((after ? "" : after.error().message));
    REQUIRE(after);
    CHECK(after->schema_exists);
    CHECK(after->version == latest);
    CHECK(after->pending.empty());
    CHECK(after->up_to_date());

    auto again = txflow::store::pg_migrate(schema.options());
    REQUIRE(again);
    CHECK(again->version == latest);
    RawConn raw(*url);
    // One row per migration (numbers may skip one held by a parallel branch), the latest last.
    CHECK(raw.exec("SELECT count(*) = count(DISTINCT version) FROM " + schema.table("txflow_schema_version")) == "t");
    CHECK(raw.exec("SELECT max(version) FROM " + schema.table("txflow_schema_version")) == std::to_string(latest));
}

TEST_CASE("pg: concurrent migrators apply each migration exactly once", "[pg][schema]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "race");
    constexpr int kMigrators = 8;
    std::mutex mutex;
    std::vector<std::string> errors;
    std::vector<std::thread> threads;
    for (int i = 0; i < kMigrators; ++i) {
        threads.emplace_back([&] {
            auto r = txflow::store::pg_migrate(schema.options());
            if (r) return;
            std::lock_guard lock(mutex);
            errors.push_back(r.error().message);
        });
    }
    for (auto& t : threads) t.join();
    INFO((errors.empty() ? "" : errors.front()));
    CHECK(errors.empty());
    RawConn raw(*url);
    const auto latest = std::to_string(txflow::store::pg_schema_latest());
    CHECK(raw.exec("SELECT count(*) = count(DISTINCT version) FROM " + schema.table("txflow_schema_version")) == "t");
    CHECK(raw.exec("SELECT max(version) FROM " + schema.table("txflow_schema_version")) == latest);
}

TEST_CASE("pg: a schema from a newer txflow is refused, and left as it is", "[pg][schema]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "newer");
    REQUIRE(txflow::store::pg_migrate(schema.options()));
    const auto future = txflow::store::pg_schema_latest() + 1;
    RawConn raw(*url);
    raw.exec("INSERT INTO " + schema.table("txflow_schema_version") + " (version, summary) VALUES (" +
             std::to_string(future) + ", 'from the future')");

    auto status = txflow::store::pg_schema_status(schema.options());
    REQUIRE(status);
    CHECK(status->newer_than_this_build());

    auto migrated = txflow::store::pg_migrate(schema.options());
    REQUIRE_FALSE(migrated);
    CHECK(migrated.error().code == StoreError::Code::invalid);
    CHECK_THAT(migrated.error().message, Catch::Contains("newer than this txflow knows"));
    auto store = PgStore::open(schema.options());
    REQUIRE_FALSE(store);
    CHECK_THAT(store.error().message, Catch::Contains("upgrade txflow"));
    auto queue = PgQueue::open(schema.options());
    REQUIRE_FALSE(queue);
    CHECK_THAT(queue.error().message, Catch::Contains("newer"));
    CHECK(raw.exec("SELECT max(version) FROM " + schema.table("txflow_schema_version")) == std::to_string(future));
}

TEST_CASE("pg: with migrate off, open refuses a schema that is not migrated", "[pg][schema]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "nomigrate");
    auto o = schema.options();
    o.migrate = false;
    auto queue = PgQueue::open(o);
    REQUIRE_FALSE(queue);
    CHECK_THAT(queue.error().message, Catch::Contains("run `txflow db migrate`"));
    REQUIRE(txflow::store::pg_migrate(o));
    CHECK(PgQueue::open(o));
}

}  // namespace pg_schema_test
