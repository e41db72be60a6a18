#pragma once
/// @file
/// A task's priority: the executor orders by it, jobs and saga steps carry it.

#include <cstdint>

namespace txflow {

enum class Priority : std::uint8_t { low = 0, normal = 1, high = 2, critical = 3 };
inline constexpr int kPriorityLevels = 4;

}  // namespace txflow
