// Read-only views for dashboards: named breakers and queue figures.

#include "scheduler/impl.hpp"

namespace txflow {

std::vector<std::string> Scheduler::breaker_names() const {
    return impl_->breakers.names();
}

std::vector<QueueStats> Scheduler::queue_stats() const {
    return impl_->executor.queue_stats();
}

}  // namespace txflow
