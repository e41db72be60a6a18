#pragma once
/// @file
/// A monotonic counter cell: one relaxed atomic add per increment, no lock.
/// Obtain one from a Family<Counter> (txflow/observe/family.hpp) once and keep
/// the reference: the lookup by label values takes the family's lock, the
/// increment does not.

#include <atomic>
#include <cstdint>
#include "txflow/core/export.hpp"

namespace txflow::observe {

/// A monotonic counter cell (see the file's notes).
class TXFLOW_EXPORT Counter {
public:
    /// No settings (the Family passes one to every cell).
    struct Config {};
    /// A counter at 0.
    explicit Counter(const Config& /*config*/ = {}) {}
    Counter(const Counter&) = delete;
    Counter& operator=(const Counter&) = delete;

    /// Adds `n`: one relaxed atomic add.
    void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    /// The count now.
    [[nodiscard]] std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

}  // namespace txflow::observe
