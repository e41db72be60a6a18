#pragma once
/// @file
/// A gauge cell: a value that goes up and down (queue depth, state). Lock-free;
/// set() is a store, add() a compare-and-swap loop.

#include <atomic>
#include "txflow/core/export.hpp"

namespace txflow::observe {

/// A gauge cell (see the file's notes).
class TXFLOW_EXPORT Gauge {
public:
    /// No settings (the Family passes one to every cell).
    struct Config {};
    /// A gauge at 0.
    explicit Gauge(const Config& /*config*/ = {}) {}
    Gauge(const Gauge&) = delete;
    Gauge& operator=(const Gauge&) = delete;

    /// Sets the value.
    void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
    /// Adds `v` (may be negative).
    void add(double v) noexcept { value_.fetch_add(v, std::memory_order_relaxed); }
    /// The value now.
    [[nodiscard]] double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0.0};
};

}  // namespace txflow::observe
