// The PostgreSQL cluster's metrics and trace context on a real server: claim latency, claimed jobs
// and lease rescues from a cluster::Worker, leadership from a CronLeader (promtool-clean), and a
// job enqueued with a traceparent handing it to the worker that claims it.

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>

#include "cluster/cluster_test_util.hpp"
#include "cluster/cron_leader_util.hpp"
#include "txflow/cluster/cron_leader.hpp"
#include "txflow/cluster/worker.hpp"
#include "txflow/observe/metrics.hpp"

namespace pg_metrics_test {

using namespace std::chrono_literals;
using txflow::observe::Registry;
using txflow::test::PgSchema;
using txflow::test::RawConn;

namespace {

constexpr const char* kParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

// The value of the sample `series` (name and labels exactly as exposed), or nullopt.
std::optional<double> sample(const std::string& exposition, const std::string& series) {
    std::istringstream in(exposition);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    }
    return std::nullopt;
}

// `promtool check metrics` on the text: "" when clean, else what it said.
std::string promtool_problems(const std::string& exposition) {
    const std::string path = "/tmp/htrace_metrics_" + std::to_string(::getpid()) + ".prom";
    std::ofstream(path) << exposition;
    std::string said;
    if (FILE* p = ::popen(("promtool check metrics < " + path + " 2>&1").c_str(), "r")) {
        char buf[512];
        while (std::fgets(buf, sizeof buf, p) != nullptr) said += buf;
        const int rc = ::pclose(p);
        if (rc == 0) said.clear();
        else if (said.empty()) said = "promtool failed (exit " + std::to_string(rc) + ")";
    }
    std::remove(path.c_str());
    return said;
}

// What handlers saw, read on the test's thread.
class Seen {
public:
    void add(std::int64_t id, std::string traceparent) {
        const std::lock_guard lock(mutex_);
        seen_[id] = std::move(traceparent);
    }
    std::map<std::int64_t, std::string> all() const {
        const std::lock_guard lock(mutex_);
        return seen_;
    }

private:
    mutable std::mutex mutex_;
    std::map<std::int64_t, std::string> seen_;
};

}  // namespace

TEST_CASE("pg queue: a job enqueued with a traceparent hands it to the worker; an invalid one is dropped",
          "[pg][cluster][trace]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "enq", "htrace_");
    auto queue = txflow::test::open_pg_queue(schema);
    txflow::store::EnqueueOptions traced;
    traced.traceparent = kParent;
    traced.tracestate = "congo=t61";
    auto a = queue->enqueue("a", "", traced);
    REQUIRE(a);
    txflow::store::EnqueueOptions bad;
    bad.traceparent = "00-XYZ-01";
    auto b = queue->enqueue("b", "", bad);
    REQUIRE(b);  // never refused: W3C says ignore it
    std::vector<txflow::store::NewJob> batch(2);
    batch[0].kind = "c";
    batch[0].options.traceparent = kParent;
    batch[1].kind = "d";
    auto cd = queue->enqueue_batch(batch);
    REQUIRE(cd);

    auto claimed = queue->claim("default", 10, 30s);
    REQUIRE(claimed);
    REQUIRE(claimed->size() == 4);
    std::map<std::string, txflow::store::ClaimedJob> by_kind;
    for (auto& j : *claimed) by_kind[j.kind] = j;
    CHECK(by_kind["a"].traceparent == kParent);
    CHECK(by_kind["a"].tracestate == "congo=t61");
    CHECK(by_kind["b"].traceparent.empty());
    CHECK(by_kind["c"].traceparent == kParent);
    CHECK(by_kind["c"].tracestate.empty());
    CHECK(by_kind["d"].traceparent.empty());
}

TEST_CASE("cluster worker: claim latency, claimed jobs and lease rescues as metrics; Job::traceparent()",
          "[pg][cluster][metrics]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "worker", "htrace_");
    auto queue = txflow::test::open_pg_queue(schema);
    txflow::store::EnqueueOptions traced;
    traced.traceparent = kParent;
    REQUIRE(queue->enqueue("work", "1", traced));
    REQUIRE(queue->enqueue("work", "2"));
    // A job claimed by a "node" that died: its lease (1 ms) expires before the worker starts.
    REQUIRE(queue->enqueue("work", "3"));
    auto stolen = queue->claim("default", 1, 1ms);
    REQUIRE(stolen);
    REQUIRE(stolen->size() == 1);

    auto registry = std::make_shared<Registry>();
    auto options = txflow::test::worker_options(schema);
    options.metrics = registry;
    options.rescue_interval = 50ms;
    Seen seen;
    txflow::cluster::Worker worker(options);
    worker.handle("work", [&](txflow::cluster::Job& job) { seen.add(job.id(), job.traceparent()); });
    REQUIRE(worker.start());
    CLUSTER_WAIT(seen.all().size() == 3, 10s);
    CLUSTER_WAIT(worker.stats().rescued >= 1, 10s);
    worker.stop(5s);

    const auto all = seen.all();
    int with_parent = 0;
    for (const auto& [id, tp] : all) {
        if (!tp.empty()) {
            ++with_parent;
            CHECK(tp == kParent);
        }
    }
    CHECK(with_parent == 1);

    const std::string text = registry->expose();
    INFO(text);
    const auto count = sample(text, R"(txflow_cluster_claim_duration_seconds_count{queue="default"})");
    REQUIRE(count);
    CHECK(*count >= 1);
    CHECK(sample(text, R"(txflow_cluster_claimed_jobs_total{queue="default"})") == 3);
    CHECK(sample(text, R"(txflow_cluster_lease_rescues_total{outcome="requeued"})") == 1);
    CHECK(sample(text, R"(txflow_cluster_lease_rescues_total{outcome="discarded"})") == 0);
    CHECK(promtool_problems(text).empty());
}

TEST_CASE("cron leader: txflow_cluster_leader and leader changes as metrics", "[pg][cluster][metrics]") {
    auto url = txflow::test::pg_url();
    if (!url) return;
    PgSchema schema(*url, "leader", "htrace_");
    txflow::ManualClock clock(txflow::test::wall("2026-12-07T10:00:00Z"));
    auto registry_a = std::make_shared<Registry>();
    auto registry_b = std::make_shared<Registry>();
    auto oa = txflow::test::cron_options(schema, clock, "node-a");
    oa.metrics = registry_a;
    auto ob = txflow::test::cron_options(schema, clock, "node-b");
    ob.metrics = registry_b;
    auto a = txflow::test::open_leader(oa);
    auto b = txflow::test::open_leader(ob);
    const std::string leader = R"(txflow_cluster_leader{election="cron"})";
    const std::string acquired = R"(txflow_cluster_leader_changes_total{election="cron",change="acquired"})";
    const std::string lost = R"(txflow_cluster_leader_changes_total{election="cron",change="lost"})";

    CHECK(sample(registry_a->expose(), leader) == 0);
    REQUIRE(txflow::test::tick(*a).leader);
    REQUIRE_FALSE(txflow::test::tick(*b).leader);
    CHECK(sample(registry_a->expose(), leader) == 1);
    CHECK(sample(registry_a->expose(), acquired) == 1);
    CHECK(sample(registry_b->expose(), leader) == 0);
    CHECK(sample(registry_b->expose(), acquired) == 0);

    REQUIRE(txflow::test::tick(*a).leader);  // a renewal is not a change
    CHECK(sample(registry_a->expose(), acquired) == 1);

    REQUIRE(a->resign());
    CHECK(sample(registry_a->expose(), leader) == 0);
    CHECK(sample(registry_a->expose(), lost) == 1);
    REQUIRE(txflow::test::tick(*b).leader);
    CHECK(sample(registry_b->expose(), leader) == 1);
    CHECK(sample(registry_b->expose(), acquired) == 1);
    const std::string text = registry_b->expose();
    INFO(text);
    CHECK(promtool_problems(text).empty());
}

}  // namespace pg_metrics_test
