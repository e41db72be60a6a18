// The text exposition format 0.0.4, byte for byte.

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <string>

#include "txflow/observe/metrics.hpp"

namespace exposition_test {

using txflow::observe::Registry;

TEST_CASE("a small registry exposes exactly the expected text", "[observe]") {
    Registry r;
    auto& runs = r.counter("app_runs_total", "Runs that ended.", {"job", "outcome"});
    runs.with({"backup", "succeeded"}).inc(3);
    runs.with({"a\"b\\c\nd", "failed"}).inc();
    r.gauge("app_depth", "Queued runs\nwaiting.").with({}).set(2.5);
    auto& lat = r.histogram("app_lateness_seconds", "Lateness.", {}, {0.01, 0.1, 1});
    auto& cell = lat.with({});
    cell.observe(std::chrono::milliseconds(5));
    cell.observe(0.1);  // on a bound: counted in that bucket (le)
    cell.observe(2.0);
    const std::string expected =
        "# HELP txflow_metrics_series_dropped_total Label sets folded into the overflow series (value \"other\") "
        "because the family reached its series limit\n"
        "# TYPE txflow_metrics_series_dropped_total counter\n"
        "txflow_metrics_series_dropped_total{family=\"app_runs_total\"} 0\n"
        "# HELP app_runs_total Runs that ended.\n"
        "# TYPE app_runs_total counter\n"
        "app_runs_total{job=\"backup\",outcome=\"succeeded\"} 3\n"
        "app_runs_total{job=\"a\\\"b\\\\c\\nd\",outcome=\"failed\"} 1\n"
        "# HELP app_depth Queued runs\\nwaiting.\n"
        "# TYPE app_depth gauge\n"
        "app_depth 2.5\n"
        "# HELP app_lateness_seconds Lateness.\n"
        "# TYPE app_lateness_seconds histogram\n"
        "app_lateness_seconds_bucket{le=\"0.01\"} 1\n"
        "app_lateness_seconds_bucket{le=\"0.1\"} 2\n"
        "app_lateness_seconds_bucket{le=\"1\"} 2\n"
        "app_lateness_seconds_bucket{le=\"+Inf\"} 3\n"
        "app_lateness_seconds_sum 2.105\n"
        "app_lateness_seconds_count 3\n";
    CHECK(r.expose() == expected);
}

TEST_CASE("histogram labels come before le; special gauge values", "[observe]") {
    Registry r;
    r.histogram("h_seconds", "h", {"queue"}, {1}).with({"q"}).observe(0.5);
    auto& g = r.gauge("g", "g", {"k"});
    g.with({"inf"}).set(INFINITY);
    g.with({"nan"}).set(NAN);
    const std::string text = r.expose();
    CHECK(text.find("h_seconds_bucket{queue=\"q\",le=\"1\"} 1\n") != std::string::npos);
    CHECK(text.find("h_seconds_bucket{queue=\"q\",le=\"+Inf\"} 1\n") != std::string::npos);
    CHECK(text.find("h_seconds_sum{queue=\"q\"} 0.5\n") != std::string::npos);
    CHECK(text.find("h_seconds_count{queue=\"q\"} 1\n") != std::string::npos);
    CHECK(text.find("g{k=\"inf\"} +Inf\n") != std::string::npos);
    CHECK(text.find("g{k=\"nan\"} NaN\n") != std::string::npos);
}

}  // namespace exposition_test
