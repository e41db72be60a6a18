// The metrics registry: families, label lookup, the cardinality cap, name checks.

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include "txflow/observe/metrics.hpp"

namespace registry_test {

using txflow::observe::FamilyOptions;
using txflow::observe::Registry;

TEST_CASE("a label lookup returns the same cell each time; increments add up", "[observe]") {
    Registry r;
    auto& runs = r.counter("t_runs_total", "runs", {"job"});
    auto& a = runs.with({"a"});
    a.inc();
    a.inc(2);
    CHECK(&runs.with({"a"}) == &a);
    CHECK(&runs.with({"b"}) != &a);
    CHECK(a.value() == 3);
    CHECK(runs.series() == 2);
}

TEST_CASE("the same name returns the same family; a clash throws", "[observe]") {
    Registry r;
    auto& f = r.counter("t_x_total", "x", {"job"});
    CHECK(&r.counter("t_x_total", "x", {"job"}) == &f);
    CHECK_THROWS_AS(r.counter("t_x_total", "x", {"queue"}), std::invalid_argument);
    CHECK_THROWS_AS(r.gauge("t_x_total", "x", {"job"}), std::invalid_argument);
}

TEST_CASE("bad names, suffixes, labels and bounds are refused with the metric's name", "[observe]") {
    Registry r;
    CHECK_THROWS_WITH(r.counter("t_runs", "x"), "metric 't_runs': a counter's name ends in _total");
    CHECK_THROWS_WITH(r.gauge("t_depth_total", "x"), "metric 't_depth_total': only counters end in _total");
    CHECK_THROWS_AS(r.gauge("9bad", "x"), std::invalid_argument);
    CHECK_THROWS_AS(r.gauge("t_g", "x", {"__reserved"}), std::invalid_argument);
    CHECK_THROWS_AS(r.gauge("t_g", "x", {"a", "a"}), std::invalid_argument);
    CHECK_THROWS_AS(r.histogram("t_h", "x", {"le"}, {1}), std::invalid_argument);
    CHECK_THROWS_AS(r.histogram("t_h", "x", {}, {1, 1}), std::invalid_argument);
    auto& g = r.gauge("t_g", "x", {"a", "b"});
    CHECK_THROWS_AS(g.with({"only one"}), std::invalid_argument);
}

TEST_CASE("past max_series new label sets fold into job=\"other\" and are counted", "[observe]") {
    Registry r;
    auto& runs = r.counter("t_runs_total", "runs", {"job", "outcome"}, FamilyOptions{.max_series = 3});
    for (int i = 0; i < 3; ++i) runs.with({"job" + std::to_string(i), "ok"}).inc();
    auto& over1 = runs.with({"job3", "ok"});
    auto& over2 = runs.with({"job4", "ok"});
    auto& over_failed = runs.with({"job5", "failed"});
    CHECK(&over1 == &over2);
    CHECK(&over1 != &over_failed);  // the other labels are kept
    over1.inc();
    over2.inc();
    CHECK(&runs.with({"other", "ok"}) == &over1);
    CHECK(over1.value() == 2);
    CHECK(runs.series() == 5);                      // 3 + {other,ok} + {other,failed}
    CHECK(runs.with({"job0", "ok"}).value() == 1);  // existing series keep working
    const std::string text = r.expose();
    CHECK(text.find("txflow_metrics_series_dropped_total{family=\"t_runs_total\"} 3\n") != std::string::npos);
    CHECK(text.find("t_runs_total{job=\"other\",outcome=\"ok\"} 2\n") != std::string::npos);
}

TEST_CASE("the registry default cap applies to families that name none", "[observe]") {
    Registry r({.max_series_per_family = 2});
    auto& g = r.gauge("t_g", "x", {"k"}, FamilyOptions{.max_series = 0});
    g.with({"a"});
    g.with({"b"});
    CHECK(&g.with({"c"}) == &g.with({"other"}));
}

TEST_CASE("collectors run before each exposition, and not after removal", "[observe]") {
    Registry r;
    auto& depth = r.gauge("t_depth", "depth");
    int calls = 0;
    const auto id = r.add_collector([&] { depth.with({}).set(++calls); });
    CHECK(r.expose().find("t_depth 1\n") != std::string::npos);
    CHECK(r.expose().find("t_depth 2\n") != std::string::npos);
    r.remove_collector(id);
    CHECK(r.expose().find("t_depth 2\n") != std::string::npos);
    CHECK(calls == 2);
}

}  // namespace registry_test
