// Read-only views of a scheduler for dashboards: named breakers and queue figures.

#include "scheduler/impl.hpp"

namespace txflow {

std::vector<QueueStats> Scheduler::queue_stats() const {
    return impl_->executor.queue_stats();
}

std::vector<std::string> Scheduler::breaker_names() const {
    return impl_->breakers.names();
}

}  // namespace txflow
