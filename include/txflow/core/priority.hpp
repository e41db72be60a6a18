#pragma once
/// @file
/// A task's priority: the executor orders by it, jobs and saga steps carry it.

#include <cstdint>

namespace txflow {

/// How urgent a task is: higher levels run first.
enum class Priority : std::uint8_t { low = 0, normal = 1, high = 2, critical = 3 };
/// The number of Priority levels.
inline constexpr int kPriorityLevels = 4;

}  // namespace txflow
