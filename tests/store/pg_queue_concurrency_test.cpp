// PgQueue under concurrency, on a real PostgreSQL: transactional enqueue
// (the job exists if and only if the caller's transaction commits, also with
// several threads at once), and concurrent batch claimers (no job handed to
// two of them).

#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/pg_test_util.hpp"
#include "txflow/store/pg_queue.hpp"

namespace pg_queue_concurrency_test {

using namespace std::chrono_literals;
using txflow::store::NewJob;
using txflow::store::PgQueue;
using txflow::test::PgSchema;
using txflow::test::RawConn;

TEST_CASE("pg queue: transactional enqueue: commit gives the job and the row, rollback neither", "[pg][queue]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "txenq");
    auto q = txflow::test::open_pg_queue(schema);
    RawConn app(*url);  // the application's own connection
    const auto orders = schema.table("orders");
    app.exec("CREATE TABLE " + orders + " (id text PRIMARY KEY)");

    app.exec("BEGIN");
    app.exec("INSERT INTO " + orders + " VALUES ('o1')");
    auto job = q->enqueue_in(app.get(), "ship", "o1");
    INFO((job ? "" : job.error().message));
    REQUIRE(job);
    // Not visible to workers before the commit.
    auto early = q->claim("default", 10, 30s);
    REQUIRE(early);
    CHECK(early->empty());
    app.exec("COMMIT");
    auto claimed = q->claim("default", 10, 30s);
    REQUIRE(claimed);
    REQUIRE(claimed->size() == 1);
    CHECK(claimed->front().id == job->id);
    CHECK(claimed->front().payload == "o1");

    app.exec("BEGIN");
    app.exec("INSERT INTO " + orders + " VALUES ('o2')");
    REQUIRE(q->enqueue_in(app.get(), "ship", "o2"));
    app.exec("ROLLBACK");
    auto none = q->claim("default", 10, 30s);
    REQUIRE(none);
    CHECK(none->empty());
    RawConn check(*url);
    CHECK(check.exec("SELECT count(*) FROM " + schema.table("txflow_jobs")) == "1");
    CHECK(check.exec("SELECT count(*) FROM " + orders) == "1");
}

TEST_CASE("pg queue: transactional enqueue under concurrency: jobs match exactly the committed rows", "[pg][queue]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "txconc");
    auto q = txflow::test::open_pg_queue(schema);
    const auto orders = schema.table("orders");
    RawConn(*url).exec("CREATE TABLE " + orders + " (id text PRIMARY KEY)");

    constexpr int kThreads = 4;
    constexpr int kEach = 40;
    std::atomic<int> errors{0};
    std::mutex mutex;
    std::set<std::string> committed;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            RawConn app(*url);  // REQUIRE on this thread: connecting is checked again below
            for (int i = 0; i < kEach; ++i) {
                const std::string id = std::to_string(t) + "-" + std::to_string(i);
                const bool commit = (i * 7 + t) % 3 != 0;  // a fixed mix of commits and rollbacks
                bool ok = app.try_exec("BEGIN").has_value() &&
                          app.try_exec("INSERT INTO " + orders + " VALUES ('" + id + "')").has_value() &&
                          q->enqueue_in(app.get(), "ship", id).has_value() &&
                          app.try_exec(commit ? "COMMIT" : "ROLLBACK").has_value();
                if (!ok) {
                    ++errors;
                    (void)app.try_exec("ROLLBACK");
                    continue;
                }
                if (commit) {
                    std::lock_guard lock(mutex);
                    committed.insert(id);
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    REQUIRE(errors == 0);
    REQUIRE_FALSE(committed.empty());

    std::multiset<std::string> jobs;
    for (int round = 0; round < kThreads * kEach; ++round) {  // bounded: at most one job a round
        auto batch = q->claim("default", 50, 30s);
        REQUIRE(batch);
        if (batch->empty()) break;
        for (const auto& j : *batch) jobs.insert(j.payload);
    }
    CHECK(jobs == std::multiset<std::string>(committed.begin(), committed.end()));
    RawConn check(*url);
    CHECK(check.exec("SELECT count(*) FROM " + orders) == std::to_string(committed.size()));
}

TEST_CASE("pg queue: concurrent batch claimers never share a job", "[pg][queue][stress]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "claimers");
    constexpr int kJobs = 3000;
    constexpr int kClaimers = 6;
    {
        auto q = txflow::test::open_pg_queue(schema);
        std::vector<NewJob> jobs;
        for (int i = 0; i < kJobs; ++i) jobs.push_back(NewJob{"work", std::to_string(i), {}});
        REQUIRE(q->enqueue_batch(jobs));
    }
    std::vector<std::unique_ptr<PgQueue>> queues;
    for (int c = 0; c < kClaimers; ++c) queues.push_back(txflow::test::open_pg_queue(schema));

    std::mutex mutex;
    std::map<std::int64_t, int> claims;  // id -> times claimed
    std::atomic<int> errors{0};
    std::atomic<int> stale_completions{0};
    std::vector<std::thread> threads;
    for (int c = 0; c < kClaimers; ++c) {
        threads.emplace_back([&, c] {
            auto& q = *queues[static_cast<std::size_t>(c)];
            for (int round = 0; round < kJobs; ++round) {  // bounded: each round claims at least one job or ends
                auto batch = q.claim("default", 1 + c * 3, 60s);
                if (!batch) {
                    ++errors;
                    return;
                }
                if (batch->empty()) return;
                for (const auto& j : *batch) {
                    {
                        std::lock_guard lock(mutex);
                        ++claims[j.id];
                    }
                    auto done = q.complete(j.id, j.attempt);
                    if (!done) ++errors;
                    else if (!*done) ++stale_completions;
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    CHECK(errors == 0);
    CHECK(stale_completions == 0);
    CHECK(claims.size() == kJobs);
    int twice = 0;
    for (const auto& [id, n] : claims) twice += n > 1 ? 1 : 0;
    CHECK(twice == 0);
    RawConn check(*url);
    CHECK(check.exec("SELECT count(*) FROM " + schema.table("txflow_jobs") +
                     " WHERE state = 'completed' AND attempt = 1") == std::to_string(kJobs));
}

}  // namespace pg_queue_concurrency_test
