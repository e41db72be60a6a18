// Faults: the worker's connections terminated by the server
// (pg_terminate_backend) while a job runs. Each service reconnects with
// backoff; the running job's completion is written after the reconnect,
// still fenced; new jobs run.

#include <atomic>

#include "cluster/cluster_test_util.hpp"

namespace faults_test {

using namespace std::chrono_literals;
using namespace txflow::test;
using txflow::cluster::Job;
using txflow::cluster::Worker;

TEST_CASE("a worker whose connections are terminated reconnects and loses nothing", "[cluster][faults]") {
    auto url = pg_url();
    if (!url) return;
    PgSchema schema(*url, "faults");
    auto queue = open_pg_queue(schema);
    auto options = worker_options(schema);
    options.lease = 3s;
    Gate gate;
    std::atomic<bool> held_started{false};
    JobRunLog log;
    Worker w(options);
    w.handle("held", [&, opened = gate.opened](Job& job) {
        held_started = true;
        opened.wait();
        log.ran(job.id());
    });
    w.handle("noop", [&](Job& job) { log.ran(job.id()); });
    REQUIRE(w.start());
    const auto held = queue->enqueue("held", "");
    REQUIRE(held);
    CLUSTER_WAIT(held_started.load(), 10s);

    RawConn raw(*url);
    const auto terminated = raw.exec(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
        "application_name = '" +
        schema.name() + "'");
    CHECK(terminated == "4");  // producer, completer, notifier, maintenance
    gate.open();
    REQUIRE(queue->enqueue_batch(no_op_jobs(50)));
    CLUSTER_WAIT(count_where(raw, schema, "state = 'completed'") == "51", 30s);
    CLUSTER_WAIT(w.stats().reconnects >= 4, 10s);
    w.stop(5s);
    CHECK(log.distinct() == 51);
    for (const auto& [id, n] : log.runs()) CHECK(n == 1);
    CHECK(w.stats().fenced_off == 0);
    CHECK(raw.exec("SELECT attempt FROM " + schema.table("txflow_jobs") + " WHERE id = " + std::to_string(held->id)) ==
          "1");
}

}  // namespace faults_test
