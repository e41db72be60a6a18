// Stress (run under ThreadSanitizer too): two workers, many threads, jobs
// enqueued while they run, handlers that throw or snooze on their first
// attempt; every job completes, and succeeds exactly once.

#include <atomic>
#include <thread>

#include "cluster/cluster_test_util.hpp"

namespace stress_test {

using namespace std::chrono_literals;
using namespace txflow::test;
using txflow::cluster::Job;
using txflow::cluster::Worker;

TEST_CASE("stress: two workers, concurrent enqueues, failures and snoozes", "[cluster][stress]") {
    auto url = pg_url();
    if (!url) return;
    PgSchema schema(*url, "stress");
    auto queue = open_pg_queue(schema);
    constexpr int kBatches = 10;
    constexpr int kPerBatch = 150;
    JobRunLog succeeded;
    auto options = worker_options(schema);
    options.concurrency = 4;
    options.claim_batch = 16;
    options.complete_batch = 50;
    options.poll_interval = 50ms;
    options.lease = 2s;
    auto handler = [&](Job& job) {
        const auto id = job.id();
        if (job.attempt() == 1 && id % 7 == 0) throw std::runtime_error("first attempt fails");
        if (job.attempt() == 1 && id % 11 == 0) {
            job.retry_after(0ms);
            return;
        }
        succeeded.ran(id);
    };
    Worker a(options), b(options);
    a.handle("noop", handler);
    b.handle("noop", handler);
    REQUIRE(a.start());
    REQUIRE(b.start());
    std::atomic<int> enqueue_errors{0};
    std::thread producer([&] {
        auto q = txflow::store::PgQueue::open(schema.options());
        if (!q) {
            enqueue_errors = kBatches;
            return;
        }
        for (int i = 0; i < kBatches; ++i) {
            if (!(*q)->enqueue_batch(no_op_jobs(kPerBatch))) ++enqueue_errors;
            std::this_thread::sleep_for(20ms);
        }
    });
    producer.join();
    REQUIRE(enqueue_errors.load() == 0);
    RawConn raw(*url);
    constexpr int kJobs = kBatches * kPerBatch;
    CLUSTER_WAIT(count_where(raw, schema, "state = 'completed'") == std::to_string(kJobs), 120s);
    CHECK(a.stop(5s).drained);
    CHECK(b.stop(5s).drained);
    const auto runs = succeeded.runs();
    CHECK(runs.size() == kJobs);
    int not_once = 0;
    for (const auto& [id, n] : runs) not_once += n != 1 ? 1 : 0;
    CHECK(not_once == 0);
    CHECK(a.stats().fenced_off + b.stats().fenced_off == 0);
    CHECK(a.stats().completed + b.stats().completed == kJobs);
    CHECK(a.stats().failed + b.stats().failed == std::stoull(count_where(raw, schema, "id % 7 = 0")));
}

}  // namespace stress_test
