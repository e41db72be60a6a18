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

class TXFLOW_EXPORT Counter {
public:
    struct Config {};
    explicit Counter(const Config& /*config*/ = {}) {}
    Counter(const Counter&) = delete;
    Counter& operator=(const Counter&) = delete;

    void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

}  // namespace txflow::observe
