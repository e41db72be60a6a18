// GET /api/v1/cluster against a real PostgreSQL: a cluster::Worker's node
// row, a running job with its lease, and a cron leader lease. Skipped without
// TXFLOW_PG_URL; fails under CI=true (tests/store/pg_test_util.hpp).

#include <atomic>

#include "cluster/cluster_test_util.hpp"
#include "dashboard_fixture.hpp"

namespace dashboard_cluster_test {

using namespace std::chrono_literals;
using nlohmann::json;
using namespace txflow::test;

TEST_CASE("the cluster page shows nodes, the leader and running jobs' leases", "[http][dashboard][cluster][pg]") {
    auto url = pg_url();
    if (!url) return;
    PgSchema schema(*url, "cluster", "hdash_");
    auto queue = open_pg_queue(schema);  // migrates the schema
    RawConn raw(*url);

    auto options = worker_options(schema);
    options.name = "node-a";
    txflow::cluster::Worker worker(options);
    std::atomic<bool> release{false};
    worker.handle("long", [&release](txflow::cluster::Job&) {
        const auto deadline = std::chrono::steady_clock::now() + 20s;
        while (!release && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
    });
    REQUIRE(worker.start());
    const auto job = queue->enqueue("long", "");
    REQUIRE(job);
    CLUSTER_WAIT(count_where(raw, schema, "state = 'running'") == "1", 20s);
    raw.exec("INSERT INTO " + schema.table("txflow_leader") +
             " (name, node, epoch, lease_until) VALUES ('cron', 'node-a', 3, now() + interval '30 seconds')");

    txflow::http::DashboardOptions dash;
    dash.cluster = schema.options();
    DashboardServer d(dash);
    auto c = d.client();
    auto res = c.Get("/api/v1/cluster");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    const json view = json::parse(res->body);
    CHECK(view["enabled"] == true);
    CHECK(view["schema"] == schema.name());
    REQUIRE(view["nodes"].size() == 1);
    CHECK(view["nodes"][0]["id"] == worker.node_id());
    CHECK(view["nodes"][0]["name"] == "node-a");
    CHECK(view["nodes"][0]["running"] == 1);
    CHECK(view["nodes"][0]["heartbeat"].get<std::int64_t>() <= view["now"].get<std::int64_t>() + 1000);
    REQUIRE(view["leaders"].size() == 1);
    CHECK(view["leaders"][0]["name"] == "cron");
    CHECK(view["leaders"][0]["node"] == "node-a");
    CHECK(view["leaders"][0]["epoch"] == 3);
    CHECK(view["leaders"][0]["held"] == true);
    CHECK(view["leaders"][0]["lease_until"].get<std::int64_t>() > view["now"].get<std::int64_t>());
    REQUIRE(view["running"].size() == 1);
    CHECK(view["running"][0]["id"] == job->id);
    CHECK(view["running"][0]["kind"] == "long");
    CHECK(view["running"][0]["node_id"] == worker.node_id());
    CHECK(view["running"][0]["lease_until"].get<std::int64_t>() > view["now"].get<std::int64_t>());

    release = true;
    CHECK(worker.stop(10s).drained);
    CLUSTER_WAIT(count_where(raw, schema, "state = 'running'") == "0", 20s);
    CHECK(body_of(c.Get("/api/v1/cluster"))["running"].empty());
}

TEST_CASE("the cluster endpoint answers 503 with the reason when the store cannot be read",
          "[http][dashboard][cluster][pg]") {
    txflow::http::DashboardOptions dash;
    dash.cluster = txflow::store::PgOptions{};
    dash.cluster->url = "postgresql://nobody@127.0.0.1:1/none";  // nothing listens on port 1
    dash.cluster->connect_timeout = 2s;
    DashboardServer d(dash);
    auto c = d.client();
    auto res = c.Get("/api/v1/cluster");
    REQUIRE(res);
    CHECK(res->status == 503);
    CHECK(body_of(res)["error"].get<std::string>().starts_with("cluster store: "));

    dash.cluster->schema = "Bad-Name";
    DashboardServer bad(dash);
    auto c2 = bad.client();
    res = c2.Get("/api/v1/cluster");
    REQUIRE(res);
    CHECK(res->status == 503);
}

}  // namespace dashboard_cluster_test
