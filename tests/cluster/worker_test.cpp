// cluster::Worker end to end on a real PostgreSQL: jobs run exactly once
// across two workers, failures retry, snoozes, node rows and their heartbeat,
// leases kept alive by the heartbeat, bad options and a down server.

#include <unistd.h>

#include <atomic>
#include <thread>

#include "cluster/cluster_test_util.hpp"

namespace worker_test {

using namespace std::chrono_literals;
using txflow::cluster::Job;
using txflow::cluster::Worker;
using namespace txflow::test;

TEST_CASE("two workers run every job exactly once", "[cluster][worker]") {
    auto url = pg_url();
    if (!url) return;
    PgSchema schema(*url, "once");
    auto queue = open_pg_queue(schema);
    constexpr int kJobs = 600;
    JobRunLog log;
    auto options = worker_options(schema);
    options.claim_batch = 25;
    Worker a(options), b(options);
    for (Worker* w : {&a, &b}) {
        w->handle("noop", [&](Job& job) {
            std::this_thread::sleep_for(1ms);  // some work, so that one worker cannot take everything
            log.ran(job.id());
        });
    }
    REQUIRE(a.start());
    REQUIRE(b.start());
    REQUIRE(queue->enqueue_batch(no_op_jobs(kJobs)));
    RawConn raw(*url);
    CLUSTER_WAIT(count_where(raw, schema, "state = 'completed'") == std::to_string(kJobs), 60s);
    CHECK(a.stop(5s).drained);
    CHECK(b.stop(5s).drained);
    const auto runs = log.runs();
    CHECK(runs.size() == kJobs);
    int more_than_once = 0;
    for (const auto& [id, n] : runs) more_than_once += n != 1 ? 1 : 0;
    CHECK(more_than_once == 0);
    CHECK(a.stats().completed + b.stats().completed == kJobs);
    CHECK(a.stats().completed > 0);
    CHECK(b.stats().completed > 0);
    CHECK(a.stats().fenced_off + b.stats().fenced_off == 0);
    CHECK(count_where(raw, schema, "attempt <> 1 OR node_id IS NOT NULL OR finished_at IS NULL") == "0");
}

TEST_CASE("a throwing handler fails the attempt, retried until max_attempts, then discarded", "[cluster][worker]") {
    auto url = pg_url();
    if (!url) return;
    PgSchema schema(*url, "fail");
    auto queue = open_pg_queue(schema);
    txflow::store::EnqueueOptions twice;
    twice.max_attempts = 2;
    const auto flaky = queue->enqueue("flaky", "", twice);
    const auto doomed = queue->enqueue("doomed", "", twice);
    const auto orphan = queue->enqueue("nobody_handles_this", "", twice);
    const auto snoozer = queue->enqueue("snoozer", "");
    REQUIRE((flaky && doomed && orphan && snoozer));
    std::atomic<int> snoozer_runs{0};
    Worker w(worker_options(schema));
    w.handle("flaky", [](Job& job) {
        if (job.attempt() == 1) throw std::runtime_error("first attempt fails");
    });
    w.handle("doomed", [](Job&) { throw std::runtime_error("always fails"); });
    w.handle("snoozer", [&](Job& job) {
        if (snoozer_runs.fetch_add(1) == 0) job.retry_after(0ms);
    });
    REQUIRE(w.start());
    RawConn raw(*url);
    CLUSTER_WAIT(count_where(raw, schema, "state IN ('completed', 'discarded')") == "4", 20s);
    w.stop(5s);
    const auto jobs = schema.table("txflow_jobs");
    CHECK(raw.exec("SELECT state || ' ' || attempt FROM " + jobs + " WHERE id = " + std::to_string(flaky->id)) ==
          "completed 2");
    CHECK(raw.exec("SELECT state || ' ' || attempt || ' ' || last_error FROM " + jobs +
                   " WHERE id = " + std::to_string(doomed->id)) == "discarded 2 always fails");
    CHECK(raw.exec("SELECT state || ' ' || last_error FROM " + jobs + " WHERE id = " + std::to_string(orphan->id)) ==
          "discarded no handler for kind \"nobody_handles_this\" on this worker");
    CHECK(raw.exec("SELECT state || ' ' || attempt FROM " + jobs + " WHERE id = " + std::to_string(snoozer->id)) ==
          "completed 2");
    CHECK(snoozer_runs.load() == 2);
    CHECK(w.stats().failed == 5);  // flaky 1, doomed 2, orphan 2
    CHECK(w.stats().snoozed == 1);
    CHECK(w.stats().completed == 2);
}

TEST_CASE("a worker registers a node row, heartbeats it, and removes it at stop", "[cluster][worker]") {
    auto url = pg_url();
    if (!url) return;
    PgSchema schema(*url, "node");
    RawConn raw(*url);
    auto options = worker_options(schema);
    options.name = "billing-1";
    options.lease = 600ms;
    options.heartbeat_interval = 100ms;
    Worker w(options);
    REQUIRE(w.start());
    const auto nodes = schema.table("txflow_nodes");
    const auto id = std::to_string(w.node_id());
    CHECK(w.node_id() > 0);
    CHECK_THROWS_AS(w.handle("late", [](Job&) {}), std::logic_error);
    CHECK(raw.exec("SELECT name || ' ' || pid || ' ' || (host <> '') FROM " + nodes + " WHERE id = " + id) ==
          "billing-1 " + std::to_string(::getpid()) + " true");
    CLUSTER_WAIT(raw.exec("SELECT heartbeat_at > started_at + interval '250 milliseconds' FROM " + nodes +
                          " WHERE id = " + id) == "t",
                 10s);
    // A dead node's row (silent for over node_expiry = 10 x lease) is removed by the rescuer.
    raw.exec("INSERT INTO " + nodes +
             " (name, host, pid, heartbeat_at) VALUES ('dead', 'h', 1, now() - interval '1 hour')");
    CLUSTER_WAIT(raw.exec("SELECT count(*) FROM " + nodes + " WHERE name = 'dead'") == "0", 10s);
    // A node row deleted while the node lives comes back with the next heartbeat.
    raw.exec("DELETE FROM " + nodes + " WHERE id = " + id);
    CLUSTER_WAIT(raw.exec("SELECT count(*) FROM " + nodes + " WHERE id = " + id) == "1", 10s);
    CHECK(w.stop(5s).drained);
    CHECK(raw.exec("SELECT count(*) FROM " + nodes) == "0");
}

TEST_CASE("the heartbeat keeps a long job's lease: no rescue, no second run", "[cluster][worker]") {
    auto url = pg_url();
    if (!url) return;
    PgSchema schema(*url, "lease");
    auto queue = open_pg_queue(schema);
    REQUIRE(queue->enqueue("long", ""));
    auto options = worker_options(schema);
    options.lease = 400ms;
    options.heartbeat_interval = 100ms;
    options.rescue_interval = 50ms;
    std::atomic<int> runs{0};
    std::atomic<bool> stop_seen{false};
    Worker w(options);
    w.handle("long", [&](Job& job) {
        ++runs;
        std::this_thread::sleep_for(1500ms);  // the work itself: well past the lease
        stop_seen = job.stop_token().stop_requested();
    });
    REQUIRE(w.start());
    RawConn raw(*url);
    CLUSTER_WAIT(count_where(raw, schema, "state = 'completed'") == "1", 20s);
    w.stop(5s);
    CHECK(runs.load() == 1);
    CHECK_FALSE(stop_seen.load());
    CHECK(w.stats().rescued == 0);
    CHECK(w.stats().fenced_off == 0);
    CHECK(count_where(raw, schema, "attempt = 1") == "1");
}

TEST_CASE("start() refuses bad options and a down server with a clear error", "[cluster][worker]") {
    txflow::cluster::WorkerOptions o;
    o.pg.url = "postgresql://postgres@127.0.0.1:1/postgres";  // nothing listens on port 1
    o.pg.connect_timeout = 2s;
    o.logger = quiet_logger();
    {
        Worker w(o);
        auto started = w.start();
        REQUIRE_FALSE(started);
        CHECK_THAT(started.error().message, Catch::Contains("cannot connect to 127.0.0.1:1"));
    }
    o.lease = 1s;
    o.heartbeat_interval = 2s;
    {
        Worker w(o);
        auto started = w.start();
        REQUIRE_FALSE(started);
        CHECK_THAT(started.error().message,
                   Catch::Contains("heartbeat_interval (2000 ms) must be positive and below the lease"));
    }
    o.heartbeat_interval.reset();
    o.queues.clear();
    Worker w(o);
    auto started = w.start();
    REQUIRE_FALSE(started);
    CHECK_THAT(started.error().message, Catch::Contains("no queues"));
}

}  // namespace worker_test
