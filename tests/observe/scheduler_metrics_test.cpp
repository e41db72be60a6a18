// SchedulerOptions::metrics on the test kit's fixture: runs by outcome, fire
// lateness, retries, misfires, queue gauges, breaker figures.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "txflow/observe/metrics.hpp"
#include "txflow/testing.hpp"

namespace scheduler_metrics_test {

using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using txflow::JobContext;
using txflow::SchedulerOptions;
using txflow::observe::Registry;
using txflow::testing::FixtureOptions;
using txflow::testing::SchedulerFixture;

namespace {

struct Metered : SchedulerFixture {
    explicit Metered(std::shared_ptr<Registry> r, SchedulerOptions options = SchedulerOptions{}.workers(2))
        : SchedulerFixture(FixtureOptions{.scheduler = std::move(options.metrics(r))}), registry(std::move(r)) {}
    Metered() : Metered(std::make_shared<Registry>()) {}
    std::shared_ptr<Registry> registry;
};

}  // namespace

TEST_CASE_METHOD(Metered, "runs_total counts attempts by outcome; lateness is 0 on an exact clock",
                 "[observe][scheduler]") {
    int calls = 0;
    setup([&](txflow::Scheduler& s) {
        s.job("tick").every(1min).queue("reports").run([&](JobContext&) {
            if (++calls % 3 == 0) throw std::runtime_error("every third fails");
        });
    });
    advance(6min);
    REQUIRE(fired("tick") == 6);
    CHECK_THAT(registry->expose(),
               Contains(std::string(R"(txflow_job_runs_total{job="tick",queue="reports",outcome="succeeded"} 4)"
                                    "\n")));
    CHECK_THAT(registry->expose(),
               Contains(std::string(R"(txflow_job_runs_total{job="tick",queue="reports",outcome="failed"} 2)"
                                    "\n")));
    CHECK_THAT(registry->expose(),
               Contains(std::string(R"(txflow_job_run_duration_seconds_count{job="tick",queue="reports"} 6)"
                                    "\n")));
    // The manual clock stands still while a fire is handed to a worker.
    CHECK_THAT(
        registry->expose(),
        Contains(std::string(R"(txflow_job_fire_lateness_seconds_bucket{job="tick",queue="reports",le="0.0001"} 6)"
                             "\n")));
    CHECK_THAT(registry->expose(),
               Contains(std::string(R"(txflow_job_fire_lateness_seconds_sum{job="tick",queue="reports"} 0)"
                                    "\n")));
    CHECK_THAT(registry->expose(), Contains(std::string(R"(txflow_queue_depth{queue="reports"} 0)"
                                                        "\n")));
    CHECK_THAT(registry->expose(), Contains(std::string(R"(txflow_queue_limit{queue="reports"} 0)"
                                                        "\n")));
    CHECK_THAT(registry->expose(), Contains(std::string(R"(txflow_queue_oldest_wait_seconds{queue="reports"} 0)"
                                                        "\n")));
}

TEST_CASE("a run that waits for its queue's only slot starts late by the wait", "[observe][scheduler]") {
    auto registry = std::make_shared<Registry>();
    Metered f(registry, SchedulerOptions{}.workers(2).queue("one", 1));
    // Both fire at the same instant into a queue of one slot; whichever runs
    // first moves the wall clock 5 s on, so the other starts 5 s late.
    f.setup([&f](txflow::Scheduler& s) {
        for (const char* name : {"a", "b"})
            s.job(name).cron("0 0 * * * *").queue("one").run([&f](JobContext&) { f.clock().jump_wall(5s); });
    });
    f.advance(1h);
    REQUIRE(f.fired("a") == 1);
    REQUIRE(f.fired("b") == 1);
    auto& lateness = registry->histogram("txflow_job_fire_lateness_seconds", "", {"job", "queue"},
                                         txflow::observe::buckets::latencies());
    const auto& a = lateness.with({"a", "one"});
    const auto& b = lateness.with({"b", "one"});
    CHECK(a.count() == 1);
    CHECK(b.count() == 1);
    CHECK(a.sum() + b.sum() == 5.0);
    CHECK(std::min(a.sum(), b.sum()) == 0.0);
    CHECK_THAT(registry->expose(), Contains(R"(txflow_queue_limit{queue="one"} 1)"
                                            "\n"));
}

TEST_CASE_METHOD(Metered, "retries, timeouts and dead letters are counted per job", "[observe][scheduler]") {
    setup([](txflow::Scheduler& s) {
        s.job("flaky").every(1h).retry(txflow::retry::fixed(1s).attempts(3)).run([](JobContext&) {
            throw std::runtime_error("down");
        });
    });
    advance(1h + 5s);
    CHECK_THAT(registry->expose(), Contains(std::string(R"(txflow_job_retries_total{job="flaky",queue="default"} 2)"
                                                        "\n")));
    CHECK_THAT(registry->expose(),
               Contains(std::string(R"(txflow_job_runs_total{job="flaky",queue="default",outcome="failed"} 3)"
                                    "\n")));
    CHECK_THAT(registry->expose(),
               Contains(std::string(R"(txflow_job_dead_letters_total{job="flaky",queue="default"} 1)"
                                    "\n")));
    // Only the first attempt's lateness is a fire's lateness.
    CHECK_THAT(registry->expose(),
               Contains(std::string(R"(txflow_job_fire_lateness_seconds_count{job="flaky",queue="default"} 1)"
                                    "\n")));
}

TEST_CASE_METHOD(Metered, "a breaker's state, window and transitions are exported", "[observe][scheduler]") {
    txflow::BreakerOptions options;
    options.window = 4;
    options.min_calls = 2;
    options.failure_rate = 0.5;
    options.open_for = 1h;
    setup([&](txflow::Scheduler& s) {
        s.job("call").every(1min).circuit_breaker("db", options).run([](JobContext&) {
            throw std::runtime_error("refused");
        });
    });
    advance(3min);
    CHECK_THAT(registry->expose(), Contains(std::string(R"(txflow_breaker_state{breaker="db",state="open"} 1)"
                                                        "\n")));
    CHECK_THAT(registry->expose(), Contains(std::string(R"(txflow_breaker_state{breaker="db",state="closed"} 0)"
                                                        "\n")));
    CHECK_THAT(registry->expose(),
               Contains(std::string(R"(txflow_breaker_transitions_total{breaker="db",from="closed",to="open"} 1)"
                                    "\n")));
    CHECK_THAT(registry->expose(), Contains(std::string(R"(txflow_breaker_window_calls{breaker="db"} 2)"
                                                        "\n")));
    CHECK_THAT(registry->expose(), Contains(std::string(R"(txflow_breaker_window_failure_ratio{breaker="db"} 1)"
                                                        "\n")));
}

TEST_CASE("a WAL store's flushes show as batch sizes and fsync durations", "[observe][scheduler]") {
    auto registry = std::make_shared<Registry>();
    SchedulerFixture f(FixtureOptions{.store = txflow::testing::StoreKind::wal,
                                      .scheduler = SchedulerOptions{}.workers(2).metrics(registry)});
    f.setup([](txflow::Scheduler& s) { s.job("w").cron("0 * * * * *").run([](JobContext&) {}); });
    f.advance(5min);
    REQUIRE(f.fired("w") == 5);
    const auto& batches = registry->histogram("txflow_store_batch_records", "", {"store"}, {}).with({"wal"});
    const auto& syncs = registry->histogram("txflow_store_sync_duration_seconds", "", {"store"}, {}).with({"wal"});
    CHECK(batches.count() > 0);
    CHECK(batches.sum() >= 5.0);  // at least one record per fire
    CHECK(syncs.count() > 0);
}

TEST_CASE("thousands of jobs stay within the series cap: the rest fold into job=\"other\"", "[observe][scheduler]") {
    auto registry = std::make_shared<Registry>(txflow::observe::RegistryOptions{.max_series_per_family = 10});
    Metered f(registry);
    f.setup([](txflow::Scheduler& s) {
        for (int i = 0; i < 30; ++i) s.job("job" + std::to_string(i)).every(1min).run([](JobContext&) {});
    });
    f.advance(1min);
    const auto text = registry->expose();
    CHECK_THAT(text, Contains(R"(txflow_job_runs_total{job="other",queue="default",outcome="succeeded"} 20)"));
    CHECK_THAT(text, Contains(R"(txflow_job_runs_total{job="job9",queue="default",outcome="succeeded"} 1)"));
    CHECK(text.find(R"(job="job10")") == std::string::npos);
    CHECK_THAT(text, Contains(R"(txflow_metrics_series_dropped_total{family="txflow_job_run_duration_seconds"} 20)"));
}

}  // namespace scheduler_metrics_test
