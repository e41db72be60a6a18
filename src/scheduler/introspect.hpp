#pragma once
// Read-only views of a scheduler for the dashboard (src/http/dashboard/):
// each queue's figures, and the names of its named breakers.

#include <string>
#include <vector>

#include "txflow/scheduler.hpp"

namespace txflow::detail {

[[nodiscard]] std::vector<QueueStats> queue_stats(const Scheduler& scheduler);
[[nodiscard]] std::vector<std::string> breaker_names(const Scheduler& scheduler);  // sorted

}  // namespace txflow::detail
