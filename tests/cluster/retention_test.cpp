// Retention: finished rows past their state's retention leave the jobs
// table, deleted in batches; newer ones, other states and unfinished jobs stay.

#include "cluster/cluster_test_util.hpp"

namespace retention_test {

using namespace std::chrono_literals;
using namespace txflow::test;
using txflow::cluster::Worker;

TEST_CASE("the cleaner deletes finished rows past retention, in batches, and nothing else", "[cluster][retention]") {
    auto url = pg_url();
    if (!url) return;
    PgSchema schema(*url, "retention");
    auto queue = open_pg_queue(schema);
    auto other = no_op_jobs(3000);
    for (auto& j : other) j.options.queue = "elsewhere";  // no worker claims them
    REQUIRE(queue->enqueue_batch(other));
    RawConn raw(*url);
    const auto jobs = schema.table("txflow_jobs");
    auto set = [&](const std::string& state, const std::string& finished, int from, int to) {
        raw.exec("UPDATE " + jobs + " SET state = '" + state + "', finished_at = now() - interval '" + finished +
                 "' WHERE id IN (SELECT id FROM " + jobs + " ORDER BY id OFFSET " + std::to_string(from) + " LIMIT " +
                 std::to_string(to - from) + ")");
    };
    set("completed", "2 hours", 0, 1250);        // past 1 h: deleted
    set("completed", "10 minutes", 1250, 1500);  // kept
    set("discarded", "8 days", 1500, 2300);      // past 7 d: deleted
    set("discarded", "2 days", 2300, 2400);      // kept
    set("cancelled", "3 hours", 2400, 2450);     // cancelled kept forever below
    // 2450..2999 stay available in "elsewhere", however old.
    raw.exec("UPDATE " + jobs + " SET created_at = now() - interval '30 days', run_at = now() - interval '30 days'");

    auto options = worker_options(schema);
    options.retention.completed = 1h;
    options.retention.discarded = std::chrono::hours(24 * 7);
    options.retention.cancelled.reset();
    options.delete_batch = 100;
    options.retention_interval = 50ms;
    Worker w(options);
    REQUIRE(w.start());
    CLUSTER_WAIT(w.stats().deleted == 2050, 30s);
    w.stop(5s);
    CHECK(count_where(raw, schema, "true") == "950");
    CHECK(count_where(raw, schema, "state = 'completed'") == "250");
    CHECK(count_where(raw, schema, "state = 'discarded'") == "100");
    CHECK(count_where(raw, schema, "state = 'cancelled'") == "50");
    CHECK(count_where(raw, schema, "state = 'available'") == "550");
}

}  // namespace retention_test
