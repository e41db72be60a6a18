// LISTEN/NOTIFY only wakes: with notify on, an idle worker starts a new job
// long before its poll interval; with notify off (a transaction-pooling
// proxy), polling alone runs every job.

#include <atomic>
#include <mutex>
#include <vector>

#include "cluster/cluster_test_util.hpp"

namespace notify_test {

using namespace std::chrono_literals;
using namespace txflow::test;
using txflow::cluster::Job;
using txflow::cluster::Worker;

TEST_CASE("an enqueue wakes an idle worker well before the poll interval", "[cluster][notify]") {
    auto url = pg_url();
    if (!url) return;
    PgSchema schema(*url, "notify");
    auto queue = open_pg_queue(schema);
    auto options = worker_options(schema);
    options.poll_interval = 30s;
    std::atomic<int> runs{0};
    Worker w(options);
    w.handle("ping", [&](Job&) { ++runs; });
    REQUIRE(w.start());
    std::vector<std::chrono::milliseconds> waits;
    for (int i = 1; i <= 5; ++i) {
        const auto enqueued_at = std::chrono::steady_clock::now();
        REQUIRE(queue->enqueue("ping", ""));
        CLUSTER_WAIT(runs.load() == i, 20s);
        waits.push_back(
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - enqueued_at));
    }
    w.stop(5s);
    for (auto wait : waits) CHECK(wait < 3s);  // the poll interval is 30 s
    CHECK(w.stats().wakeups >= 4);
}

TEST_CASE("a transactional enqueue wakes the worker only when it commits", "[cluster][notify]") {
    auto url = pg_url();
    if (!url) return;
    PgSchema schema(*url, "notifytx");
    auto queue = open_pg_queue(schema);
    auto options = worker_options(schema);
    options.poll_interval = 30s;
    std::atomic<int> runs{0};
    Worker w(options);
    w.handle("ping", [&](Job&) { ++runs; });
    REQUIRE(w.start());
    RawConn app(*url);
    app.exec("BEGIN");
    REQUIRE(queue->enqueue_in(app.get(), "ping", ""));
    app.exec("ROLLBACK");
    app.exec("BEGIN");
    REQUIRE(queue->enqueue_in(app.get(), "ping", ""));
    app.exec("COMMIT");
    CLUSTER_WAIT(runs.load() == 1, 3s);
    w.stop(5s);
    CHECK(runs.load() == 1);
}

TEST_CASE("with notify off, polling runs every job", "[cluster][notify]") {
    auto url = pg_url();
    if (!url) return;
    PgSchema schema(*url, "nonotify");
    auto queue = open_pg_queue(schema);
    auto options = worker_options(schema);
    options.notify = false;
    options.poll_interval = 100ms;
    std::atomic<int> runs{0};
    Worker w(options);
    w.handle("ping", [&](Job&) { ++runs; });
    REQUIRE(w.start());
    RawConn raw(*url);
    // No LISTEN on any of the worker's connections.
    CHECK(raw.exec("SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + schema.name() +
                   "' AND query LIKE 'LISTEN%'") == "0");
    for (int i = 0; i < 20; ++i) REQUIRE(queue->enqueue("ping", ""));
    CLUSTER_WAIT(runs.load() == 20, 20s);
    w.stop(5s);
    CHECK(w.stats().wakeups == 0);
    CHECK(count_where(raw, schema, "state = 'completed'") == "20");
}

}  // namespace notify_test
