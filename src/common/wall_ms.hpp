#pragma once
// Wall-clock instants as the store keeps them: milliseconds since the Unix epoch.

#include <chrono>
#include <cstdint>

#include "txflow/core/clock.hpp"

namespace txflow {

[[nodiscard]] inline std::int64_t to_ms(WallTime t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
[[nodiscard]] inline WallTime from_ms(std::int64_t ms) {
    return WallTime{} + std::chrono::duration_cast<WallTime::duration>(std::chrono::milliseconds(ms));
}

}  // namespace txflow
