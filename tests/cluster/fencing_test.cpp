// Fencing in the cluster worker (issue 17): a batched completion carries each
// job's attempt, so a worker whose lease was rescued cannot complete the job
// the new attempt owns; the new attempt's result stands. Also the rescue of
// a job whose worker stopped heartbeating, run by another worker.

#include <atomic>
#include <thread>

#include "cluster/cluster_test_util.hpp"
#include "cluster/queries.hpp"
#include "cluster/session.hpp"

namespace fencing_test {

using namespace std::chrono_literals;
using namespace txflow::test;
using txflow::cluster::Held;
using txflow::cluster::Job;
using txflow::cluster::Worker;

TEST_CASE("a batched completion is fenced per job: the stale attempt is refused, the new one stands",
          "[cluster][fencing]") {
    auto url = pg_url();
    if (!url) return;
    PgSchema schema(*url, "fence");
    auto queue = open_pg_queue(schema);
    REQUIRE(queue->enqueue_batch(no_op_jobs(3)));
    auto first = queue->claim("default", 3, 30s);
    REQUIRE(first);
    REQUIRE(first->size() == 3);
    const auto stale = (*first)[1];
    RawConn raw(*url);
    const auto jobs = schema.table("txflow_jobs");
    // The second job's worker stalls: its lease passes, the rescuer re-queues
    // it, and another worker claims it as attempt 2.
    raw.exec("UPDATE " + jobs +
             " SET lease_until = now() - interval '1 second' WHERE id = " + std::to_string(stale.id));
    auto rescued = queue->rescue_expired();
    REQUIRE(rescued);
    CHECK(rescued->requeued == 1);
    const auto again = claim_one(*queue);
    REQUIRE(again.id == stale.id);
    REQUIRE(again.attempt == 2);

    // The stalled worker's completer writes its batch: three completions, one stale.
    auto options = worker_options(schema);
    txflow::cluster::StopFlag stop;
    std::atomic<std::uint64_t> reconnects{0};
    txflow::cluster::Session session("test", options, *options.logger, stop, reconnects);
    REQUIRE(session.open());
    const txflow::cluster::Tables tables{jobs, schema.table("txflow_nodes")};
    std::vector<Held> batch;
    for (const auto& j : *first) batch.push_back({j.id, j.attempt});
    auto taken = txflow::cluster::complete_batch(session, tables, batch);
    REQUIRE(taken);
    std::sort(taken->begin(), taken->end());
    CHECK(*taken == std::vector<std::int64_t>{(*first)[0].id, (*first)[2].id});
    CHECK(raw.exec("SELECT state || ' ' || attempt FROM " + jobs + " WHERE id = " + std::to_string(stale.id)) ==
          "running 2");

    // The new attempt fails: its result stands, and a replay of the stale batch changes nothing.
    auto failed = queue->fail(again.id, again.attempt, "attempt 2 failed", 0ms);
    REQUIRE(failed);
    CHECK(*failed == txflow::store::FailOutcome::retried);
    auto replay = txflow::cluster::complete_batch(session, tables, batch);
    REQUIRE(replay);
    CHECK(replay->empty());
    CHECK(raw.exec("SELECT state || ' ' || attempt || ' ' || last_error FROM " + jobs +
                   " WHERE id = " + std::to_string(stale.id)) == "available 2 attempt 2 failed");
    // So is a stale failure or snooze.
    std::vector<txflow::cluster::Setback> setbacks{{{stale.id, 1}, false, "stale failure", 0ms},
                                                   {{(*first)[0].id, 1}, true, {}, 0ms}};
    auto set = txflow::cluster::fail_batch(session, tables, setbacks);
    REQUIRE(set);
    CHECK(set->empty());
    CHECK(count_where(raw, schema, "state = 'completed'") == "2");
}

TEST_CASE("a worker that stops heartbeating loses its job to another worker's rescuer; its late result is refused",
          "[cluster][fencing]") {
    auto url = pg_url();
    if (!url) return;
    PgSchema schema(*url, "rescue");
    auto queue = open_pg_queue(schema);
    const auto enqueued = queue->enqueue("work", "");
    REQUIRE(enqueued);
    auto options = worker_options(schema);
    options.lease = 500ms;
    options.heartbeat_interval = 100ms;
    options.rescue_interval = 50ms;

    Gate gate;
    std::atomic<bool> a_started{false};
    std::atomic<bool> a_saw_stop{false};
    auto a = std::make_unique<Worker>(options);
    a->handle("work", [&, opened = gate.opened](Job& job) {
        a_started = true;
        opened.wait();
        a_saw_stop = job.stop_token().stop_requested();
    });
    REQUIRE(a->start());
    CLUSTER_WAIT(a_started.load(), 10s);
    // Worker A stops at once: its handler still runs, its heartbeat stops.
    const auto report = a->stop(std::chrono::steady_clock::now());
    CHECK_FALSE(report.drained);
    CHECK(report.still_running == 1);

    std::atomic<int> b_attempt{0};
    options.queues = {"default"};
    Worker b(options);
    b.handle("work", [&](Job& job) { b_attempt = job.attempt(); });
    REQUIRE(b.start());
    RawConn raw(*url);
    CLUSTER_WAIT(count_where(raw, schema, "state = 'completed'") == "1", 20s);
    CHECK(b_attempt.load() == 2);
    CHECK(b.stats().rescued == 1);
    gate.open();
    a.reset();  // joins A's handler thread; its result is never written
    CHECK(a_saw_stop.load());
    b.stop(5s);
    CHECK(raw.exec("SELECT attempt || ' ' || state FROM " + schema.table("txflow_jobs")) == "2 completed");
}

}  // namespace fencing_test
