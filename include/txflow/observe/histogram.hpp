#pragma once
/// @file
/// A histogram cell with fixed bucket upper bounds (base units: seconds for
/// durations). observe() is a binary search over the bounds plus two relaxed
/// atomic adds: no lock. The count is the sum of the buckets, so _count and the
/// +Inf bucket always agree.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>
#include "txflow/core/export.hpp"

namespace txflow::observe {

/// A histogram cell (see the file's notes).
class TXFLOW_EXPORT Histogram {
public:
    /// Strictly increasing finite upper bounds; +Inf is implicit.
    struct Config {
        std::shared_ptr<const std::vector<double>> bounds;  ///< shared by every cell of a family
    };

    /// Empty buckets over `config.bounds`.
    explicit Histogram(const Config& config)
        : bounds_(config.bounds), counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_->size() + 1)) {}
    Histogram(const Histogram&) = delete;
    Histogram& operator=(const Histogram&) = delete;

    /// Counts `v` in the first bucket whose bound is >= v (NaN: the +Inf bucket) and adds it to the sum.
    void observe(double v) noexcept {
        // First bound >= v (Prometheus buckets are "less or equal"); NaN lands in +Inf.
        const auto it = std::lower_bound(bounds_->begin(), bounds_->end(), v);
        const auto i = static_cast<std::size_t>(it - bounds_->begin());
        counts_[i].fetch_add(1, std::memory_order_relaxed);
        sum_.fetch_add(v, std::memory_order_relaxed);
    }
    /// Observes a duration, in seconds.
    void observe(std::chrono::nanoseconds d) noexcept { observe(static_cast<double>(d.count()) * 1e-9); }

    /// The finite upper bounds.
    [[nodiscard]] std::span<const double> bounds() const noexcept { return *bounds_; }
    /// Per bucket, not cumulative; index bounds().size() is the +Inf bucket.
    [[nodiscard]] std::uint64_t bucket(std::size_t i) const noexcept {
        return counts_[i].load(std::memory_order_relaxed);
    }
    /// Observations counted (the sum of the buckets).
    [[nodiscard]] std::uint64_t count() const noexcept {
        std::uint64_t n = 0;
        for (std::size_t i = 0; i <= bounds_->size(); ++i) n += bucket(i);
        return n;
    }
    /// The sum of the values observed.
    [[nodiscard]] double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }

private:
    std::shared_ptr<const std::vector<double>> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
    std::atomic<double> sum_{0.0};
};

/// Common bucket layouts, in seconds.
namespace buckets {
/// 1 ms .. 5 min: job run durations.
inline std::vector<double> durations() {
    return {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};
}
/// 100 us .. 1 min: fire lateness, store syncs.
inline std::vector<double> latencies() {
    return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 60};
}
/// 1 .. 4096 by powers of two: batch sizes.
inline std::vector<double> exponential(double start, double factor, std::size_t count) {
    std::vector<double> out;
    double v = start;
    for (std::size_t i = 0; i < count; ++i, v *= factor) out.push_back(v);
    return out;
}
}  // namespace buckets

}  // namespace txflow::observe
