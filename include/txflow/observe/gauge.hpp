#pragma once
/// @file
/// A gauge cell: a value that goes up and down (queue depth, state). Lock-free;
/// set() is a store, add() a compare-and-swap loop.

#include <atomic>
#include "txflow/core/export.hpp"

namespace txflow::observe {

class TXFLOW_EXPORT Gauge {
public:
    struct Config {};
    explicit Gauge(const Config& /*config*/ = {}) {}
    Gauge(const Gauge&) = delete;
    Gauge& operator=(const Gauge&) = delete;

    void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
    void add(double v) noexcept { value_.fetch_add(v, std::memory_order_relaxed); }
    [[nodiscard]] double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0.0};
};

}  // namespace txflow::observe
