// PgQueue on a real PostgreSQL: enqueue options, unique keys, batches, claim
// order, and fencing: a worker whose lease was rescued cannot change the job
// any more; the new attempt's result stands.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

#include "store/pg_test_util.hpp"
#include "txflow/store/pg_queue.hpp"

namespace pg_queue_test {

using namespace std::chrono_literals;
using txflow::store::EnqueueOptions;
using txflow::store::FailOutcome;
using txflow::store::NewJob;
using txflow::store::PgQueue;
using txflow::test::PgSchema;
using txflow::test::RawConn;

namespace {

std::int64_t enqueue_ok(PgQueue& q, std::string kind, EnqueueOptions o = {}) {
    auto r = q.enqueue(kind, "payload of " + kind, o);
    INFO((r ? "" : r.error().message));
    REQUIRE(r);
    CHECK(r->inserted);
    return r->id;
}

std::string state_of(const RawConn& raw, const PgSchema& s, std::int64_t id) {
    return raw.exec("SELECT state FROM " + s.table("txflow_jobs") + " WHERE id = " + std::to_string(id));
}

// Ends a lease now, as if its worker had stalled past it (no sleeping in tests).
void expire_lease(const RawConn& raw, const PgSchema& s, std::int64_t id) {
    raw.exec("UPDATE " + s.table("txflow_jobs") +
             " SET lease_until = now() - interval '1 second' WHERE id = " + std::to_string(id));
}

}  // namespace

TEST_CASE("pg queue: claims by priority, then run_at, then id; not before run_at", "[pg][queue]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "order");
    auto q = txflow::test::open_pg_queue(schema);
    EnqueueOptions later;
    later.run_at = std::chrono::system_clock::now() + 1h;
    const auto future = enqueue_ok(*q, "future", later);
    const auto a = enqueue_ok(*q, "a");
    const auto b = enqueue_ok(*q, "b");
    EnqueueOptions urgent;
    urgent.priority = -1;
    const auto c = enqueue_ok(*q, "c", urgent);
    EnqueueOptions other;
    other.queue = "other";
    const auto d = enqueue_ok(*q, "d", other);

    auto claimed = q->claim("default", 10, 30s);
    REQUIRE(claimed);
    REQUIRE(claimed->size() == 3);
    CHECK((*claimed)[0].id == c);
    CHECK((*claimed)[1].id == a);
    CHECK((*claimed)[2].id == b);
    CHECK((*claimed)[1].kind == "a");
    CHECK((*claimed)[1].payload == "payload of a");
    CHECK((*claimed)[1].attempt == 1);
    CHECK((*claimed)[1].max_attempts == 25);
    auto none = q->claim("default", 10, 30s);
    REQUIRE(none);
    CHECK(none->empty());  // `future` waits for its run_at
    auto others = q->claim("other", 10, 30s);
    REQUIRE(others);
    REQUIRE(others->size() == 1);
    CHECK(others->front().id == d);
    RawConn raw(*url);
    CHECK(state_of(raw, schema, future) == "available");
}

TEST_CASE("pg queue: a second enqueue with the same unique key returns the first id", "[pg][queue]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "unique");
    auto q = txflow::test::open_pg_queue(schema);
    EnqueueOptions o;
    o.unique_key = "invoice-42";
    auto first = q->enqueue("send", "one", o);
    REQUIRE(first);
    CHECK(first->inserted);
    auto second = q->enqueue("send", "two", o);
    REQUIRE(second);
    CHECK_FALSE(second->inserted);
    CHECK(second->id == first->id);

    // Also once the job ran: the row is there until retention removes it.
    const auto claimed = txflow::test::claim_one(*q);
    CHECK(claimed.payload == "one");
    REQUIRE(*q->complete(claimed.id, claimed.attempt));
    auto third = q->enqueue("send", "three", o);
    REQUIRE(third);
    CHECK(third->id == first->id);
    CHECK_FALSE(third->inserted);
    RawConn raw(*url);
    CHECK(raw.exec("SELECT count(*) FROM " + schema.table("txflow_jobs")) == "1");
}

TEST_CASE("pg queue: a batch goes in one transaction, ids in order, unique keys honoured", "[pg][queue]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "batch");
    auto q = txflow::test::open_pg_queue(schema);
    EnqueueOptions keyed;
    keyed.unique_key = "k1";
    const auto existing = enqueue_ok(*q, "before", keyed);

    std::vector<NewJob> jobs;
    for (int i = 0; i < 2500; ++i) jobs.push_back(NewJob{"bulk", std::to_string(i), {}});
    jobs[10].options.unique_key = "k1";  // taken before the batch
    jobs[20].options.unique_key = "k2";
    jobs[30].options.unique_key = "k2";  // taken earlier in the batch
    auto ids = q->enqueue_batch(jobs);
    INFO((ids ? "" : ids.error().message));
    REQUIRE(ids);
    REQUIRE(ids->size() == jobs.size());
    CHECK((*ids)[10].id == existing);
    CHECK_FALSE((*ids)[10].inserted);
    CHECK((*ids)[20].inserted);
    CHECK((*ids)[30].id == (*ids)[20].id);
    CHECK_FALSE((*ids)[30].inserted);
    RawConn raw(*url);
    CHECK(raw.exec("SELECT count(*) FROM " + schema.table("txflow_jobs")) == std::to_string(1 + 2500 - 2));
    // Each id holds its own payload.
    CHECK(raw.exec("SELECT convert_from(payload, 'UTF8') FROM " + schema.table("txflow_jobs") +
                   " WHERE id = " + std::to_string((*ids)[1234].id)) == "1234");

    std::vector<NewJob> bad{NewJob{"", "", {}}};
    auto refused = q->enqueue_batch(bad);
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message, Catch::Contains("needs a kind"));
}

TEST_CASE("pg queue: fencing: a rescued worker's completion is rejected, the new attempt's stands", "[pg][queue]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "fence");
    auto q = txflow::test::open_pg_queue(schema);
    RawConn raw(*url);
    const auto id = enqueue_ok(*q, "charge");

    const auto first = txflow::test::claim_one(*q);
    const auto stale = first.attempt;
    CHECK(stale == 1);
    REQUIRE(*q->heartbeat(id, stale, 30s));  // still its owner

    // Its worker stalls past the lease; the rescuer hands the job back.
    expire_lease(raw, schema, id);
    auto rescued = q->rescue_expired();
    REQUIRE(rescued);
    CHECK(rescued->requeued == 1);
    CHECK(rescued->discarded == 0);
    const auto second = txflow::test::claim_one(*q);
    const auto token = second.attempt;
    CHECK(token == 2);

    // The stale owner wakes up: every write of its is fenced off.
    CHECK_FALSE(*q->heartbeat(id, stale, 30s));
    CHECK_FALSE(*q->complete(id, stale));
    CHECK(*q->fail(id, stale, "stale", 0ms) == FailOutcome::not_taken);
    CHECK_FALSE(*q->retry(id, stale, 0ms));
    CHECK(state_of(raw, schema, id) == "running");

    REQUIRE(*q->complete(id, token));
    CHECK(state_of(raw, schema, id) == "completed");
    // And once finished, nobody changes it: not the owner again, not the stale one, not the rescuer.
    CHECK_FALSE(*q->complete(id, token));
    CHECK(*q->fail(id, token, "late", 0ms) == FailOutcome::not_taken);
    CHECK_FALSE(*q->complete(id, stale));
    expire_lease(raw, schema, id);
    auto none = q->rescue_expired();
    REQUIRE(none);
    CHECK(none->requeued + none->discarded == 0);
    CHECK(state_of(raw, schema, id) == "completed");
    CHECK(raw.exec("SELECT attempt FROM " + schema.table("txflow_jobs") + " WHERE id = " + std::to_string(id)) == "2");
}

TEST_CASE("pg queue: a live lease is not rescued; past max_attempts the rescuer discards", "[pg][queue]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "rescue");
    auto q = txflow::test::open_pg_queue(schema);
    RawConn raw(*url);
    EnqueueOptions once;
    once.max_attempts = 1;
    const auto id = enqueue_ok(*q, "once", once);
    CHECK(txflow::test::claim_one(*q).id == id);
    auto nothing = q->rescue_expired();
    REQUIRE(nothing);
    CHECK(nothing->requeued + nothing->discarded == 0);
    expire_lease(raw, schema, id);
    auto rescued = q->rescue_expired();
    REQUIRE(rescued);
    CHECK(rescued->discarded == 1);
    CHECK(state_of(raw, schema, id) == "discarded");
    CHECK_THAT(raw.exec("SELECT last_error FROM " + schema.table("txflow_jobs") + " WHERE id = " + std::to_string(id)),
               Catch::Contains("lease expired"));
}

TEST_CASE("pg queue: fail retries while attempts remain, then discards; retry puts it back", "[pg][queue]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "fail");
    auto q = txflow::test::open_pg_queue(schema);
    RawConn raw(*url);
    EnqueueOptions twice;
    twice.max_attempts = 2;
    const auto id = enqueue_ok(*q, "flaky", twice);

    CHECK(txflow::test::claim_one(*q).attempt == 1);
    CHECK(*q->fail(id, 1, "boom", 0ms) == FailOutcome::retried);
    CHECK(state_of(raw, schema, id) == "available");
    const auto two = txflow::test::claim_one(*q);
    CHECK(two.attempt == 2);
    CHECK(*q->fail(id, 2, "boom again", 0ms) == FailOutcome::discarded);
    CHECK(state_of(raw, schema, id) == "discarded");
    CHECK(raw.exec("SELECT last_error FROM " + schema.table("txflow_jobs") + " WHERE id = " + std::to_string(id)) ==
          "boom again");

    const auto later = enqueue_ok(*q, "later");
    CHECK(txflow::test::claim_one(*q).id == later);
    REQUIRE(*q->retry(later, 1, 1h));
    auto none = q->claim("default", 1, 30s);
    REQUIRE(none);
    CHECK(none->empty());  // back, but not before its new run_at
    CHECK(state_of(raw, schema, later) == "available");
}

TEST_CASE("pg queue: bad arguments are refused", "[pg][queue]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "args");
    auto q = txflow::test::open_pg_queue(schema);
    EnqueueOptions zero;
    zero.max_attempts = 0;
    auto r = q->enqueue("k", "", zero);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("max_attempts"));
    auto c = q->claim("default", 0, 1s);
    REQUIRE_FALSE(c);
    auto n = q->enqueue_in(nullptr, "k", "");
    REQUIRE_FALSE(n);
    CHECK_THAT(n.error().message, Catch::Contains("null PGconn"));
}

}  // namespace pg_queue_test
