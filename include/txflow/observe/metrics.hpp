#pragma once
/// @file
/// The metrics registry: counters, gauges and histograms with labels, exposed
/// in the Prometheus text format 0.0.4.
///
///     auto registry = std::make_shared<txflow::observe::Registry>();
///     auto& runs = registry->counter("app_runs_total", "Runs", {"outcome"});
///     auto& ok = runs.with({"succeeded"});  // resolve once, keep the reference
///     ok.inc();                             // lock-free
///     std::string text = registry->expose();
///
/// A scheduler feeds one with SchedulerOptions::metrics(registry); the
/// embeddable HTTP server (txflow/http/server.hpp) serves it at /metrics.
/// Pull-time figures (queue depth, breaker state) come from collectors, run
/// at the start of each expose().

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>
#include "txflow/core/export.hpp"

#include "txflow/observe/family.hpp"

namespace txflow::observe {

/// Registry-wide limits.
struct TXFLOW_EXPORT RegistryOptions {
    std::size_t max_series_per_family = 1000;  ///< a family's default cap (FamilyOptions::max_series 0)
};

/// The metrics registry (see the file's notes). Thread-safe.
class TXFLOW_EXPORT Registry {
public:
    /// The Content-Type of expose()'s text.
    static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// An empty registry.
    explicit Registry(RegistryOptions options = {});
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;
    ~Registry();

    /// A family is created on first call; the same name again returns it when
    /// type and labels match, and throws std::invalid_argument otherwise, as it
    /// does for an invalid metric or label name, a counter whose name lacks the
    /// `_total` suffix or another type with it, and histogram bounds that are not
    /// finite and strictly increasing (or a histogram label named "le").
    Family<Counter>& counter(std::string_view name, std::string_view help, std::vector<std::string> labels = {},
                             FamilyOptions options = {});
    /// A gauge family (see counter() for the rules).
    Family<Gauge>& gauge(std::string_view name, std::string_view help, std::vector<std::string> labels = {},
                         FamilyOptions options = {});
    /// A histogram family with these bucket upper bounds (see counter() for the rules).
    Family<Histogram>& histogram(std::string_view name, std::string_view help, std::vector<std::string> labels,
                                 std::vector<double> bounds, FamilyOptions options = {});

    /// The default series cap of a family.
    [[nodiscard]] std::size_t max_series_per_family() const noexcept { return options_.max_series_per_family; }

    /// Collectors set pull-time gauges; each runs at the start of every
    /// expose(), one expose() at a time. remove_collector() returns once the
    /// collector is not running and will not run again.
    std::uint64_t add_collector(std::function<void()> collect);
    /// Stops a collector added with add_collector(); waits if it is running.
    void remove_collector(std::uint64_t id);

    /// Every family, in creation order, in the text format 0.0.4.
    [[nodiscard]] std::string expose() const;

private:
    template <class Cell>
    Family<Cell>& add(std::string_view name, std::string_view help, MetricType type, std::vector<std::string> labels,
                      FamilyOptions options, typename Cell::Config config);

    RegistryOptions options_;
    mutable std::mutex mutex_;  // families_
    std::vector<std::unique_ptr<FamilyBase>> families_;
    // txflow_metrics_series_dropped_total{family}: the first family, created by the constructor.
    Family<Counter>* dropped_ = nullptr;

    mutable std::mutex collect_mutex_;  // collectors_, and one expose() at a time
    std::vector<std::pair<std::uint64_t, std::function<void()>>> collectors_;
    std::uint64_t next_collector_ = 1;
};

}  // namespace txflow::observe
