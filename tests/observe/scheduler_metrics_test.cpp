// SchedulerOptions::metrics on the test kit's fixture: runs by outcome, fire
// lateness, retries, misfires, queue gauges, breaker figures.

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "txflow/observe/metrics.hpp"
#include "txflow/testing.hpp"

using namespace std::chrono_literals;
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

    [[nodiscard]] bool has(const std::string& line) const {
        return registry->expose().find(line + "\n") != std::string::npos;
    }
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
    CHECK(has(R"(txflow_job_runs_total{job="tick",queue="reports",outcome="succeeded"} 4)"));
    CHECK(has(R"(txflow_job_runs_total{job="tick",queue="reports",outcome="failed"} 2)"));
    CHECK(has(R"(txflow_job_run_duration_seconds_count{job="tick",queue="reports"} 6)"));
    // The manual clock stands still while a fire is handed to a worker.
    CHECK(has(R"(txflow_job_fire_lateness_seconds_bucket{job="tick",queue="reports",le="0.0001"} 6)"));
    CHECK(has(R"(txflow_job_fire_lateness_seconds_sum{job="tick",queue="reports"} 0)"));
    CHECK(has(R"(txflow_queue_depth{queue="reports"} 0)"));
    CHECK(has(R"(txflow_queue_running{queue="reports"} 0)"));
    CHECK(has(R"(txflow_queue_oldest_wait_seconds{queue="reports"} 0)"));
}

TEST_CASE_METHOD(Metered, "jitter shows as lateness: each run starts late by its jitter", "[observe][scheduler]") {
    setup([](txflow::Scheduler& s) { s.job("j").every(1min).jitter(20s).run([](JobContext&) {}); });
    advance(10min + 30s);
    const auto& cell =
        registry
            ->histogram("txflow_job_fire_lateness_seconds", "", {"job", "queue"}, txflow::observe::buckets::latencies())
            .with({"j", "default"});
    REQUIRE(cell.count() == fired("j"));
    CHECK(cell.count() >= 9);
    CHECK(cell.sum() > 0.0);
    CHECK(cell.sum() <= 20.0 * static_cast<double>(cell.count()));
    // Lateness of whole seconds: nothing in the sub-millisecond buckets unless the jitter drew 0.
    CHECK(cell.bucket(0) < cell.count());
}

TEST_CASE_METHOD(Metered, "retries, timeouts and dead letters are counted per job", "[observe][scheduler]") {
    setup([](txflow::Scheduler& s) {
        s.job("flaky").every(1h).retry(txflow::retry::fixed(1s).attempts(3)).run([](JobContext&) {
            throw std::runtime_error("down");
        });
    });
    advance(1h);
    CHECK(has(R"(txflow_job_retries_total{job="flaky",queue="default"} 2)"));
    CHECK(has(R"(txflow_job_runs_total{job="flaky",queue="default",outcome="failed"} 3)"));
    CHECK(has(R"(txflow_job_dead_letters_total{job="flaky",queue="default"} 1)"));
    // Only the first attempt's lateness is a fire's lateness.
    CHECK(has(R"(txflow_job_fire_lateness_seconds_count{job="flaky",queue="default"} 1)"));
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
    CHECK(has(R"(txflow_breaker_state{breaker="db",state="open"} 1)"));
    CHECK(has(R"(txflow_breaker_state{breaker="db",state="closed"} 0)"));
    CHECK(has(R"(txflow_breaker_transitions_total{breaker="db",from="closed",to="open"} 1)"));
    CHECK(has(R"(txflow_breaker_window_calls{breaker="db"} 2)"));
    CHECK(has(R"(txflow_breaker_window_failure_ratio{breaker="db"} 1)"));
}

TEST_CASE("thousands of jobs stay within the series cap: the rest fold into job=\"other\"", "[observe][scheduler]") {
    auto registry = std::make_shared<Registry>(txflow::observe::RegistryOptions{.max_series_per_family = 10});
    Metered f(registry);
    f.setup([](txflow::Scheduler& s) {
        for (int i = 0; i < 30; ++i) s.job("job" + std::to_string(i)).every(1min).run([](JobContext&) {});
    });
    f.advance(1min);
    const auto text = registry->expose();
    CHECK(text.find(R"(txflow_job_runs_total{job="other",queue="default",outcome="succeeded"} 20)") !=
          std::string::npos);
    CHECK(text.find(R"(txflow_job_runs_total{job="job9",queue="default",outcome="succeeded"} 1)") != std::string::npos);
    CHECK(text.find(R"(job="job10")") == std::string::npos);
    CHECK(text.find(R"(txflow_metrics_series_dropped_total{family="txflow_job_run_duration_seconds"} 20)") !=
          std::string::npos);
}
